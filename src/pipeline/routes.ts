import type { LogType } from '../types.js';
import type { PipelineConfig } from './config.js';

export type RouteDecision = LogType | 'auto' | 'skip';

/** Compiles the configured routes once; returns the decoder choice for a key. */
export function compileRoutes(
  config: Pick<PipelineConfig, 'routes' | 'unmatched'>,
): (key: string) => RouteDecision {
  const routes = config.routes.map((r) => ({ re: new RegExp(r.match), logType: r.logType }));
  return (key) => {
    for (const route of routes) if (route.re.test(key)) return route.logType;
    return config.unmatched;
  };
}
