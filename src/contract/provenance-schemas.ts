import { type Static, Type } from "typebox";

/** One entity of an RO-Crate's `@graph`: an `@id`, one type or several, and any properties. */
export const RoCrateEntity = Type.Object(
	{
		"@id": Type.String(),
		"@type": Type.Union([Type.String(), Type.Array(Type.String())]),
	},
	{ additionalProperties: true },
);
/** One entity of an RO-Crate's `@graph`. */
export type RoCrateEntity = Static<typeof RoCrateEntity> & Record<string, unknown>;

/**
 * GET /api/workflows/{w}/provenance (Orrery extension): the run as an RO-Crate 1.1 metadata document
 * (the content of `ro-crate-metadata.json`) following the Workflow Run Crate profile 0.5.
 */
export const ProvenanceResponse = Type.Object({
	"@context": Type.Union([Type.String(), Type.Array(Type.String())]),
	"@graph": Type.Array(RoCrateEntity),
});
/** The RO-Crate metadata document of a run. */
export type ProvenanceResponse = Static<typeof ProvenanceResponse>;
