/**
 * The one observation builder of kflow: the feature spec (names, ranges, version), the streaming
 * temporal state and `buildObservation`, shared by the training env and the live actor.
 *
 * @packageDocumentation
 * @module \@kflow/features
 */
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
