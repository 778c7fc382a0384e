import type { FastifyRequest } from "fastify";
import { AppError } from "../common/index.js";

/**
 * The JSON body of a GET request. Fastify does not parse bodies on GET, but REANA's clients send
 * some options that way (disk usage, log steps), so those routes read it here (small, bounded).
 */
export async function jsonBodyOfGet(request: FastifyRequest, maxBytes = 64 * 1024): Promise<Record<string, unknown>> {
	const length = Number(request.headers["content-length"] ?? 0);
	if (request.method !== "GET" || !length) return {};
	if (length > maxBytes) throw new AppError("validation_failed", "the request body is too large");
	const chunks: Buffer[] = [];
	for await (const chunk of request.raw) chunks.push(chunk as Buffer);
	const text = Buffer.concat(chunks).toString("utf8");
	try {
		const value: unknown = text ? JSON.parse(text) : {};
		return typeof value === "object" && value !== null && !Array.isArray(value)
			? (value as Record<string, unknown>)
			: {};
	} catch {
		throw new AppError("validation_failed", "the request body is not valid JSON");
	}
}
