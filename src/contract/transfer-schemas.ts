import { Type } from "typebox";

/** POST /api/workflows/{w}/workspace-digests (Orrery extension): which files does the workspace have, with which content? */
export const FileDigestsBody = Type.Object({
	files: Type.Array(
		Type.Object({
			name: Type.String({ minLength: 1 }),
			size: Type.Optional(Type.Integer({ minimum: 0, description: "only files of this size are hashed" })),
		}),
		{ maxItems: 10000 },
	),
});

/** The answer: each file's size and SHA-256, or null for both when it is missing (sha256 null when the size differs). */
export const FileDigestsResponse = Type.Object({
	files: Type.Array(
		Type.Object({
			name: Type.String(),
			size: Type.Union([Type.Integer(), Type.Null()]),
			sha256: Type.Union([Type.String(), Type.Null()]),
		}),
	),
});

/** POST /api/workflows/{w}/workspace-archive/download (Orrery extension): the files to send as one tar archive. */
export const ArchiveDownloadBody = Type.Object({
	files: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 10000 }),
});

/** POST /api/workflows/{w}/workspace-archive (Orrery extension): the answer to an uploaded tar archive. */
export const ArchiveUploadResponse = Type.Object({
	message: Type.String(),
	files: Type.Integer(),
	bytes: Type.Integer(),
});
