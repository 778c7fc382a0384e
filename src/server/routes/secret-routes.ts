import type { FastifyInstance } from "fastify";
import { addSecrets, deleteSecrets, listSecrets } from "../../secrets/index.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";

/** A user's secrets: listed by name and type, added (encrypted at rest), deleted; values never leave. */
export function secretRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "get_secrets", async ({ principal }) =>
		listSecrets(ctx.db, (principal as NonNullable<typeof principal>).user.id),
	);

	handle(app, "add_secrets", async ({ principal, query, body }) => {
		const names = Object.keys(body);
		await addSecrets(
			ctx.db,
			ctx.secretBox,
			ctx.clock,
			(principal as NonNullable<typeof principal>).user.id,
			body,
			query.overwrite === true,
		);
		return { message: `Secrets ${names.join(", ")} were successfully uploaded.` };
	});

	handle(app, "delete_secrets", async ({ principal, body }) =>
		deleteSecrets(ctx.db, (principal as NonNullable<typeof principal>).user.id, body),
	);
}
