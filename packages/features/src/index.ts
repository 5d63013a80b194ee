export {
  FEATURE_SET_VERSION,
  FEATURE_SPEC,
  OBSERVATION_SIZE,
  F,
  type FeatureDef,
  type FeatureGroup,
  type FeatureName,
  type FeatureSpec,
} from './featureSpec';
export { effectiveBid, effectiveAsk, effectiveMid } from './marketPrices';
export { TemporalState, TEMPORAL_STATE_SIZE } from './temporalState';
export { buildObservation, type PositionFeaturesInput } from './buildObservation';
