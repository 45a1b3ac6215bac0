export {
  Template,
  BUILTINS,
  TemplateExecError,
  type FuncMap,
  type GoFunc,
  type MissingKey,
  type ParamType,
} from './exec.js';
export { TemplateParseError } from './parse.js';
export { formatFloat } from './float.js';
export { sprintf, sprint, goQuote } from './printf.js';
export * from './values.js';
export * from './text-funcs.js';
