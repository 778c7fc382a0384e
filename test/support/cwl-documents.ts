import { type LoadedCwl, loadCwl, SpecError } from "../../src/spec/index.js";

/** Loads CWL documents from memory: `files` maps names to texts, all in file:///docs/. */
export function loadFromMemory(main: string, files: Record<string, string>): Promise<LoadedCwl> {
	return loadCwl(`file:///docs/${main}`, {
		read: async (uri) => {
			const text = files[uri.replace("file:///docs/", "")];
			if (text === undefined) throw new Error(`no such file ${uri}`);
			return text;
		},
	});
}

/** The message of the problem that refuses documents loaded from memory; throws when they load. */
export async function problemOf(main: string, files: Record<string, string>): Promise<string> {
	try {
		await loadFromMemory(main, files);
	} catch (error) {
		if (error instanceof SpecError) return error.message;
		throw error;
	}
	throw new Error("loaded without a problem");
}
