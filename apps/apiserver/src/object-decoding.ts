// Request bodies → objects of the addressed kind: JSON (or protobuf from typed clients), kind and
// apiVersion checks, Go-like type checks, and unknown fields per fieldValidation.
import type { IncomingMessage } from 'node:http';
import { apiVersionOf, type KubeObject, type ResourceInfo } from '@knet/api';
import { decodeJSON, isPlainObject, readBody } from './body.js';
import { parseFieldValidation, pruneUnknownFields, typeErrors, type FieldValidation } from './field-validation.js';
import { mediaType } from './negotiation.js';
import { decodeProtobufObject, ProtobufError } from './protobuf.js';
import { schemaOf } from './resources.js';
import { ApiError, errors } from './status.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

export async function decodeRequestObject(req: IncomingMessage, info: ResourceInfo): Promise<KubeObject> {
  const ct = mediaType(req.headers['content-type']);
  let body: unknown;
  if (ct === PROTOBUF) {
    try {
      body = decodeProtobufObject(await readBody(req));
    } catch (err) {
      if (err instanceof ProtobufError) throw new ApiError(errors.badRequest(err.message));
      throw err;
    }
  } else if (ct === 'application/json' || ct === '') {
    body = decodeJSON(await readBody(req));
  } else {
    throw new ApiError(errors.unsupportedMediaType(ct));
  }
  if (!isPlainObject(body)) throw new ApiError(errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body).slice(0, 200)}'`));
  const kind = body['kind'];
  const apiVersion = body['apiVersion'];
  if (kind !== undefined && kind !== info.kind) {
    throw new ApiError(errors.badRequest(`${String(kind)} in version "${String(apiVersion ?? '')}" cannot be handled as a ${info.kind}: the kind of the object does not match the kind of the request`));
  }
  if (apiVersion !== undefined && apiVersion !== apiVersionOf(info)) {
    throw new ApiError(errors.badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(info)})`));
  }
  if (body['metadata'] === undefined || body['metadata'] === null) body['metadata'] = {};
  if (!isPlainObject(body['metadata'])) {
    throw new ApiError(errors.badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: metadata must be an object`));
  }
  body['apiVersion'] = apiVersionOf(info);
  body['kind'] = info.kind;
  return body as unknown as KubeObject;
}

/**
 * Type mismatches are 400 (as Go's decoder answers); unknown fields are pruned and, per
 * fieldValidation, rejected (Strict), reported (Warn, the default) or dropped (Ignore).
 * Returns the warnings to send.
 */
export function checkFields(obj: KubeObject, info: ResourceInfo, fieldValidation: string | undefined): string[] {
  const fv = parseFieldValidation(fieldValidation);
  if (fv instanceof Error) throw new ApiError(errors.badRequest(fv.message));
  const mode: FieldValidation = fv ?? 'Warn';
  const schema = schemaOf(info);
  const mismatched = typeErrors(obj, schema);
  if (mismatched.length > 0) {
    throw new ApiError(errors.badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${mismatched.slice(0, 5).join('; ')}`));
  }
  const unknown = pruneUnknownFields(obj, schema);
  if (unknown.length === 0 || mode === 'Ignore') return [];
  if (mode === 'Strict') {
    throw new ApiError(errors.badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`));
  }
  return unknown.map((f) => `unknown field "${f}"`);
}
