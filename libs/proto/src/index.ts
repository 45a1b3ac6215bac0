export * from './gen/pharos/v1/ingester.generated.js';
export {
  InstantQueryRequest,
  LabelsQueryRequest,
  LabelValuesQueryRequest,
  QueryClient,
  QueryResponse,
  QueryService,
  RangeQueryRequest,
  ResultSeries,
  ResultType,
  SeriesQueryRequest,
  type QueryServer,
} from './gen/pharos/v1/query.generated.js';
export * from './sample-batch.js';
export * from './sample-batch-segment.js';
export {
  DiscoveryClient,
  DiscoveryService,
  SubscribeRequest,
  Target as ProtoTarget,
  TargetSet,
  type DiscoveryServer,
} from './gen/pharos/v1/discovery.generated.js';
export {
  Rule as RuleProto,
  RuleAlert,
  RuleGroup as RuleGroupProto,
  RulerClient,
  RulerService,
  RulesRequest,
  RulesResponse,
  type RulerServer,
} from './gen/pharos/v1/ruler.generated.js';
