// Compares a runner's output object with a conformance test's expected one, by the CWL test rules:
// Files and Directories match on the basename of their location (or path), checksum, size and the
// other fields the expectation names; "Any" matches anything but null; extra non-null keys fail.

/** Why two values differ, or undefined when they match. */
export function compareOutputs(expected: unknown, actual: unknown, path = "output"): string | undefined {
	if (expected === "Any")
		return actual === null || actual === undefined ? `${path}: expected any value, got null` : undefined;
	if (Array.isArray(expected)) {
		if (!Array.isArray(actual)) return `${path}: expected a list, got ${show(actual)}`;
		if (expected.length !== actual.length) return `${path}: expected ${expected.length} items, got ${actual.length}`;
		for (let i = 0; i < expected.length; i++) {
			const d = compareOutputs(expected[i], actual[i], `${path}[${i}]`);
			if (d) return d;
		}
		return undefined;
	}
	if (typeof expected === "object" && expected !== null) {
		if (typeof actual !== "object" || actual === null || Array.isArray(actual))
			return `${path}: expected an object, got ${show(actual)}`;
		const e = expected as Record<string, unknown>;
		const a = actual as Record<string, unknown>;
		if (e.class === "File" || e.class === "Directory") return compareFile(e, a, path);
		for (const [k, v] of Object.entries(e)) {
			const d = compareOutputs(v, a[k] ?? null, `${path}.${k}`);
			if (d) return d;
		}
		for (const [k, v] of Object.entries(a)) {
			if (!(k in e) && v !== null && v !== undefined) return `${path}: unexpected key '${k}'`;
		}
		return undefined;
	}
	if (typeof expected === "number" && typeof actual === "number")
		return Math.abs(expected - actual) < 1e-9 * Math.max(1, Math.abs(expected))
			? undefined
			: `${path}: expected ${expected}, got ${actual}`;
	if (
		expected === actual ||
		((expected === null || expected === undefined) && (actual === null || actual === undefined))
	)
		return undefined;
	return `${path}: expected ${show(expected)}, got ${show(actual)}`;
}

function compareFile(e: Record<string, unknown>, a: Record<string, unknown>, path: string): string | undefined {
	if (a.class !== e.class) return `${path}: expected a ${String(e.class)}, got ${show(a)}`;
	const field = "path" in e ? "path" : "location" in e ? "location" : undefined;
	if (field) {
		const want = String(e[field]);
		let got = String(a[field] ?? a.location ?? "");
		if (a.class === "Directory") got = got.replace(/\/+$/, "");
		if (want !== "Any" && !(got.endsWith(`/${want}`) || (!got.includes("/") && got === want))) {
			return `${path}.${field}: expected a name ending in ${want}, got ${got}`;
		}
	}
	if (e.class === "Directory" && Array.isArray(e.listing)) {
		if (!Array.isArray(a.listing)) return `${path}: the Directory has no listing`;
		for (const item of e.listing) {
			if (!a.listing.some((x) => compareOutputs(item, x, path) === undefined)) {
				return `${path}.listing: no entry matches ${show(item)}`;
			}
		}
	}
	for (const [k, v] of Object.entries(e)) {
		if (["location", "path", "listing", "class", "contents"].includes(k)) continue;
		const d = compareOutputs(v, a[k] ?? null, `${path}.${k}`);
		if (d) return d;
	}
	return undefined;
}

function show(value: unknown): string {
	const text = JSON.stringify(value);
	return text === undefined ? "undefined" : text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
