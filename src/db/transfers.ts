import type { Db } from "./connection.js";
import type { TransferTable } from "./schema.js";

/** A stored transfer (sizes as numbers on both dialects). */
export type TransferRow = TransferTable;

/** Records the transfers of one staging phase at once, so a phase is planned completely or not at all. */
export async function insertTransfers(db: Db, rows: readonly TransferRow[]): Promise<void> {
	if (rows.length === 0) return;
	await db.kysely.transaction().execute(async (tx) => {
		for (let i = 0; i < rows.length; i += 500)
			await tx
				.insertInto("transfers")
				.values(rows.slice(i, i + 500))
				.execute();
	});
}

/** The transfers of a run in one direction, in order. */
export async function listTransfers(
	db: Db,
	workflowId: string,
	direction: TransferRow["direction"],
): Promise<TransferRow[]> {
	const rows = await db.kysely
		.selectFrom("transfers")
		.selectAll()
		.where("workflow_id", "=", workflowId)
		.where("direction", "=", direction)
		.orderBy("seq")
		.execute();
	// PostgreSQL returns bigint columns as strings.
	return rows.map((r) => ({ ...r, size: r.size === null ? null : Number(r.size), bytes: Number(r.bytes) }));
}

/** Updates transfers of a run by sequence number (one statement for many). */
export async function updateTransfers(
	db: Db,
	workflowId: string,
	direction: TransferRow["direction"],
	seqs: readonly number[],
	patch: Partial<Pick<TransferRow, "status" | "bytes" | "message" | "updated_at">>,
): Promise<void> {
	for (let i = 0; i < seqs.length; i += 500) {
		await db.kysely
			.updateTable("transfers")
			.set(patch)
			.where("workflow_id", "=", workflowId)
			.where("direction", "=", direction)
			.where("seq", "in", seqs.slice(i, i + 500))
			.execute();
	}
}
