export * from './parser/ast.js';
export * from './parser/errors.js';
export * from './parser/functions.js';
export { parseExpr, parseMetricSelector, typeOf } from './parser/parser.js';
export { Engine, DEFAULT_ENGINE_OPTIONS, type EngineOptions } from './engine/engine.js';
export * from './engine/types.js';
export { formatExpr, prettyExpr, exprToJson } from './parser/printer.js';
