// `@knet/ipam/client`: what a program that calls ipam needs (the gRPC client, its TLS credentials, errors, types),
// without the server, level or the repair loop's HTTP client that the package's index also brings.
export * from './client.js';
export { ipamClientTlsCredentials, type TlsFiles } from './tls.js';
export * from './errors.js';
export * from './types.js';
