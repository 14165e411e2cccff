// @grpc/grpc-js and @grpc/proto-loader, CommonJS packages, through require rather than import: Node's import
// of a CommonJS module first lexes its source (and the sources it re-exports) for named exports with
// cjs-module-lexer, in JavaScript; with these on top of the rest, the apiserver lexed enough for TurboFan to
// compile the lexer at every start (none with require; see packages/dns/src/dns-packet.ts for the cost).
// `import * as grpc from './grpc.js'` reads as the package: each name is its value and its type.
import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js') as typeof Grpc;

export const { Client, Metadata, Server, ServerCredentials, credentials, status } = grpc;
export type Client = Grpc.Client;
export type Metadata = Grpc.Metadata;
export type Server = Grpc.Server;
export type ServerCredentials = Grpc.ServerCredentials;
export type status = Grpc.status;
export type { ChannelCredentials, ServerUnaryCall, ServiceDefinition, ServiceError, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';

export const protoLoader = require('@grpc/proto-loader') as typeof ProtoLoader;
