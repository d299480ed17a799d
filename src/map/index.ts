export * from './ecs/index.js';
