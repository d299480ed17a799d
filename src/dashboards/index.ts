export { DashboardInstallError, DashboardSpecError } from './errors.js';
export { defaultDashboardsDir, type RenderOptions, renderDashboards, writeDashboards } from './generate.js';
export {
  type Credentials,
  type InstallResult,
  type InstallStep,
  installKibanaDashboards,
  installSplunkDashboards,
  type KeepReason,
  type KibanaInstallOptions,
  kibanaImportBody,
  type SplunkInstallOptions,
} from './install.js';
export type { SavedObject } from './kibana.js';
export { panelSearchRequest, panelSpl, toKql } from './queries.js';
export {
  type DashboardSources,
  type DashboardSpec,
  type Dataset,
  loadDashboardSources,
  panelFields,
} from './spec.js';
