import { createRequire } from "node:module";

/** Parses YAML, loading the parser only when a settings file is read: the CLI reads config/ at every start. */
export function parseYamlText(text: string): unknown {
	const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
	return parse(text);
}
