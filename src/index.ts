export { loadConfig } from './config/load';
export type { Config } from './config/schema';
export { Pipeline } from './pipeline';
export * from './errors';
