/** A byte count as REANA prints it: `0 Bytes`, `1.5 KiB`, `12 MiB`. */
export function humanSize(bytes: number): string {
	if (bytes < 1024) return `${bytes} Bytes`;
	const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
	let value = bytes;
	let unit = "Bytes";
	for (const u of units) {
		if (value < 1024) break;
		value /= 1024;
		unit = u;
	}
	return `${Number.isInteger(value) ? value : value.toFixed(value < 10 ? 2 : 1).replace(/\.?0+$/, "")} ${unit}`;
}
