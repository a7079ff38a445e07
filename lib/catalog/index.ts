export {
  ArtifactError,
  loadArtifacts,
  parseCatalog,
  parseManifest,
  parseRunResults,
  type DbtArtifacts,
} from "./artifacts.ts";
export { filterColumnEdges, traceColumnLineage, type RawColumnEdge } from "./column-lineage.ts";
export {
  buildCatalog,
  catalogRelations,
  layerOf,
  lineageRequest,
  relationKey,
  DEFAULT_ALERT_THRESHOLD,
  DEFAULT_SLO,
  type BuildOptions,
  type CatalogPlan,
  type RelationFacts,
} from "./plan.ts";
export {
  DIMENSIONS,
  LAYER_THRESHOLDS,
  scoreLayers,
  scoreTable,
  testDimension,
  testRunStatus,
  type Dimension,
  type DimensionWeights,
  type LayerScore,
  type TableScore,
} from "./quality.ts";
export { seedCatalog, type SeedOptions, type SeedResult, type WebhookReport } from "./seed.ts";
