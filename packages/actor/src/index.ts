/**
 * The inference-only live actor: paper trades many markets on live books with the same features and
 * execution model as training, hot-reloads deployed models and logs every decision.
 *
 * @packageDocumentation
 * @module \@kflow/actor
 */
export { type ActorErrorCode } from './errors';
export {
  type ActorPolicy,
  type ActorModel,
  type Deployment,
  type ModelSource,
  type DeploymentRegistry,
  type RegistryDeployment,
  type RegistryModelSourceOptions,
  createStaticModelSource,
  createRegistryModelSource,
} from './modelSource';
export {
  type ActorRiskLimits,
  type ActionLogRow,
  type ActionLog,
  type ReloadReport,
  type RefusalReport,
  type ActorEvent,
  type ActorMarketStatus,
  type ActorSummary,
  type ActorOptions,
  type Actor,
  createActor,
  validateModel,
} from './actor';
