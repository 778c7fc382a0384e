import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Static, TSchema } from "typebox";
import { authorize, type Principal } from "../auth/index.js";
import type { OperationId } from "../contract/index.js";
import { ErrorBody, type RouteContract, routes } from "../contract/schemas.js";

type StaticOf<T> = T extends TSchema ? Static<T> : Record<string, never>;

/** A request as a handler sees it: typed params, query and body, and who is asking. */
export interface RouteRequest<R extends RouteContract> {
	params: StaticOf<R["params"]>;
	query: StaticOf<R["querystring"]>;
	body: StaticOf<R["body"]>;
	principal: Principal | null;
	raw: FastifyRequest;
}

/** A handler's answer: the success body (sent with the route's status), or nothing when it replied itself. */
export type RouteResult<R extends RouteContract> = R["response"] extends TSchema ? Static<R["response"]> : undefined;

declare module "fastify" {
	interface FastifyRequest {
		principal: Principal | null;
	}
}

/** Registers the handler of one contract route, with the contract's schemas for validation, serialisation and OpenAPI. */
export function handle<K extends OperationId>(
	app: FastifyInstance,
	operationId: K,
	handler: (
		req: RouteRequest<(typeof routes)[K]>,
		reply: FastifyReply,
	) => Promise<RouteResult<(typeof routes)[K]> | undefined>,
): void {
	const r: RouteContract = routes[operationId];
	const response: Record<number | string, TSchema> = { "4xx": ErrorBody, "5xx": ErrorBody };
	if (r.response) response[r.status] = r.response;
	for (const [status, schema] of Object.entries(r.errorResponses ?? {})) response[status] = schema;
	const schema: Record<string, unknown> = { operationId, summary: r.summary, response };
	if (r.params) schema.params = r.params;
	if (r.querystring) schema.querystring = r.querystring;
	if (r.body) schema.body = r.body;
	if (r.consumes) schema.consumes = r.consumes;
	const isPublic = r.permission === "public";
	if (!isPublic) schema.security = [{ access_token: [] }, { bearer: [] }];
	app.route({
		method: r.method,
		url: r.url,
		schema,
		config: { isPublic, operationId },
		handler: async (request, reply) => {
			// Every route is authenticated and scope-checked here, by the contract's declaration.
			if (r.permission !== "public") authorize(request.principal, r.permission);
			const result = await handler(
				{
					params: request.params as never,
					query: request.query as never,
					body: request.body as never,
					principal: request.principal,
					raw: request,
				},
				reply,
			);
			if (reply.sent) return reply;
			if (result === undefined) return reply;
			return reply.status(r.status).type("application/json").send(result);
		},
	});
}
