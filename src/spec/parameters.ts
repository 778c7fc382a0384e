/** Workflow parameter values as declared in `inputs.parameters` (and overridden at start). */
export type Parameters = Record<string, unknown>;

// Python's string.Template: $$, $name, ${name}, and a lone $ (left alone).
const templatePattern = /\$(?:(\$)|([_a-zA-Z][_a-zA-Z0-9]*)|\{([_a-zA-Z][_a-zA-Z0-9]*)\}|())/g;

/**
 * Substitutes `$name` and `${name}` with parameter values exactly as REANA does (Python's
 * `Template.safe_substitute`): unknown names are left as they are, `$$` becomes `$`.
 */
export function substituteParameters(command: string, parameters: Parameters): string {
	return command.replace(templatePattern, (match, escaped, named, braced) => {
		if (escaped) return "$";
		const name = (named ?? braced) as string | undefined;
		if (name === undefined || !Object.hasOwn(parameters, name)) return match;
		return pythonStr(parameters[name]);
	});
}

/** The `${name}` references of a command, in order of appearance. */
export function bracedReferences(command: string): Array<{ name: string; index: number }> {
	const out: Array<{ name: string; index: number }> = [];
	for (const m of command.matchAll(templatePattern)) {
		if (m[3] !== undefined) out.push({ name: m[3], index: m.index ?? 0 });
	}
	return out;
}

/** True for names written like environment variables (HOME, REANA_WORKSPACE), which a shell resolves. */
export function looksLikeEnvironmentVariable(name: string): boolean {
	return /^[A-Z_][A-Z0-9_]*$/.test(name);
}

// Values are rendered as Python's str() would, so commands expand as they do on REANA.
function pythonStr(value: unknown): string {
	if (value === true) return "True";
	if (value === false) return "False";
	if (value === null || value === undefined) return "None";
	if (typeof value === "object") return JSON.stringify(value);
	return String(value);
}
