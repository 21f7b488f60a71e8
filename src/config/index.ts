// config/: zoo.cfg parsing and validation, the CLI's overrides, and every
// limit as a named *Max constant. Must never start threads or touch the data
// directory; it only reads the configuration file.

export * from './config.js';
export * from './limits.js';
export * from './args.js';
