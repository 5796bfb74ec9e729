/**
 * Schemas shared by the routes (TypeBox, i.e. JSON Schema): the error body, the error answers
 * a route can give, path parameters. Every route declares body, params, querystring and
 * responses with these and its own; Fastify validates requests against them and
 * @fastify/swagger publishes them at GET /openapi.json.
 *
 * Response objects allow properties beyond the declared ones (`additionalProperties: true`), so
 * the serializer never drops a field; the declared ones are what clients may rely on.
 */
import { Type, type TObject, type TProperties, type TSchema } from '@sinclair/typebox'

/** `{ error, code }`: every answer that is not a success (src/http/errors.ts). */
export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'what went wrong, for a person' }),
    code: Type.String({ description: 'flowhouse error code (src/errors.ts), e.g. BAD_REQUEST, UNAUTHORIZED, VIEW_NOT_FOUND' }),
  },
  { additionalProperties: true },
)

/** An object with the given properties that may carry more. */
export function Open<T extends TProperties>(properties: T, description?: string): TObject<T> {
  return Type.Object(properties, { additionalProperties: true, ...(description ? { description } : {}) })
}

/** Any JSON object. */
export const AnyObject = Type.Object({}, { additionalProperties: true })

/** The body of a state-changing request that takes no input: `{}`. */
export const EmptyBody = Type.Object({}, { additionalProperties: false, description: 'send {} (state-changing requests carry a JSON body)' })

/** The error body with a description of when it is answered. */
export const errorBody = (description: string) => ({ ...ErrorBody, description })
const err = errorBody

/** Answers every route may give besides its own (access control, validation, failures). */
export function errorResponses(kind: 'open' | 'guarded' | 'body'): Record<number, TSchema> {
  return <Record<number, TSchema>>{
    ...(kind === 'open' ? {} : { 401: err('no API key, or an unknown one'), 403: err('the key does not cover this route') }),
    400: err('the request does not match its schema'),
    414: err('a path parameter is over 100 characters'),
    ...(kind === 'body' ? { 413: err('body over the size limit'), 415: err('body is not application/json') } : {}),
    421: err('Host header not served (only without API keys)'),
    500: err('internal error (logged and counted)'),
    503: err('ClickHouse or Kafka unreachable'),
  }
}

/** `:pipeline/:name` of the constraint routes. */
export const ConstraintParams = Type.Object({ pipeline: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }) })

/** `:name` of the view routes. */
export const ViewParams = Type.Object({ name: Type.String({ minLength: 1 }) })
