// admin/: four-letter words, AdminServer commands and Prometheus metrics as
// pure formatters over the counters the threads publish, the hub that
// gathers them on demand, and the HTTP endpoints. Must never hold state a
// client request depends on, nor add work to the request path.

export * from './stats.js';
export * from './view.js';
export * from './four-letter-words.js';
export * from './commands.js';
export * from './prometheus.js';
export * from './hub.js';
export * from './http.js';
export * from './control.js';
