import type { FastifyError, FastifyInstance } from "fastify";
import { isAppError } from "../common/index.js";
import { errorTable } from "../contract/index.js";
import { transientDatabaseError } from "../db/index.js";
import { SecretsNotFoundError } from "../secrets/index.js";

/** The only place that writes error bodies: `{ message, code, details?, request_id }`. */
export function installErrorHandler(app: FastifyInstance): void {
	app.setErrorHandler((error: FastifyError | Error, request, reply) => {
		if (error instanceof SecretsNotFoundError) {
			// REANA's contract: the body of this 404 is the list of missing names (reana-client reads it).
			return reply.status(404).type("application/json").send(error.names);
		}
		if (isAppError(error)) {
			const { status } = errorTable[error.code];
			if (status >= 500) request.log.error({ err: error }, error.message);
			const body: Record<string, unknown> = { message: error.message, code: error.code, request_id: request.id };
			if (error.details !== undefined) body.details = error.details;
			return reply.status(status).type("application/json").send(body);
		}
		const fe = error as FastifyError;
		if (fe.validation) {
			const where = fe.validationContext ?? "request";
			const first = fe.validation[0];
			const field = first?.instancePath
				? first.instancePath.slice(1).replace(/\//g, ".")
				: (first?.params as { missingProperty?: string })?.missingProperty;
			const message = `invalid ${where}${field ? ` field '${field}'` : ""}: ${first?.message ?? fe.message}`;
			return reply
				.status(400)
				.type("application/json")
				.send({ message, code: "validation_failed", request_id: request.id });
		}
		if (
			fe.code === "FST_ERR_CTP_INVALID_JSON_BODY" ||
			fe.code === "FST_ERR_CTP_EMPTY_JSON_BODY" ||
			(fe.statusCode === 400 && error instanceof SyntaxError)
		) {
			return reply
				.status(400)
				.type("application/json")
				.send({
					message: `the request body is not valid JSON: ${fe.message}`,
					code: "validation_failed",
					request_id: request.id,
				});
		}
		if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
			const code =
				fe.statusCode === 404 ? "not_found" : fe.statusCode === 413 ? "validation_failed" : "validation_failed";
			return reply
				.status(fe.statusCode)
				.type("application/json")
				.send({ message: fe.message, code, request_id: request.id });
		}
		if (transientDatabaseError(error)) {
			// Busy, locked or unreachable for now: the request may simply be sent again.
			request.log.warn({ err: error }, "database unavailable");
			return reply.status(503).header("retry-after", "5").type("application/json").send({
				message: "the database is busy or unreachable for now; try again in a few seconds",
				code: "backend_unavailable",
				request_id: request.id,
			});
		}
		request.log.error({ err: error }, "unhandled error");
		return reply.status(500).type("application/json").send({
			message: "internal server error; the server log has the details",
			code: "internal",
			request_id: request.id,
		});
	});
	app.setNotFoundHandler((request, reply) =>
		reply
			.status(404)
			.type("application/json")
			.send({
				message: `no such endpoint: ${request.method} ${request.url.split("?")[0]}`,
				code: "not_found",
				request_id: request.id,
			}),
	);
}
