// Mutual TLS for the ipam gRPC service: the server accepts only clients whose certificate the
// cluster CA signed (in knet: the apiserver's), and the client verifies the server against it.
import * as grpc from './grpc.js';

export interface TlsFiles {
  /** PEM of the CA that signed the peer's certificate. */
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

const buf = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/** For IpamServerOptions.credentials: TLS with a required, CA-verified client certificate. */
export function ipamServerTlsCredentials(t: TlsFiles): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(buf(t.ca), [{ cert_chain: buf(t.cert), private_key: buf(t.key) }], true);
}

/** For IpamClientOptions.credentials: verifies the server against `ca`, presents `cert`. */
export function ipamClientTlsCredentials(t: TlsFiles): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(buf(t.ca), buf(t.key), buf(t.cert));
}
