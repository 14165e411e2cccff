// @grpc/grpc-js and @grpc/proto-loader, CommonJS packages, through require rather than import: Node's import
// of a CommonJS module first lexes its source (and the sources it re-exports) for named exports with
// cjs-module-lexer, in JavaScript; with these packages on top of the rest, the apiserver lexed enough to
// have the lexer compiled by the optimizing compiler at every start, memory that stays resident.
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
