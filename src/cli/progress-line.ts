/** A one-line progress bar on a terminal (redrawn in place); silent elsewhere. */
export class ProgressLine {
	private lastDraw = 0;
	private isVisible = false;

	constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

	private get isTty(): boolean {
		return Boolean(this.stream.isTTY);
	}

	/** Draws `label [####    ] done/total suffix` (throttled to 10 redraws a second unless forced). */
	update(label: string, done: number, total: number, suffix = "", force = false): void {
		if (!this.isTty) return;
		const now = Date.now();
		if (!force && now - this.lastDraw < 100) return;
		this.lastDraw = now;
		const width = 24;
		const ratio = total > 0 ? Math.min(1, done / total) : 0;
		const filled = Math.round(ratio * width);
		const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
		const text = `${label} ${bar} ${done}/${total}${suffix ? ` ${suffix}` : ""}`;
		const columns = this.stream.columns ?? 100;
		this.stream.write(`\r\x1b[2K${text.slice(0, columns - 1)}`);
		this.isVisible = true;
	}

	/** Removes the line so other output can be printed cleanly. */
	clear(): void {
		if (!this.isVisible) return;
		this.stream.write("\r\x1b[2K");
		this.isVisible = false;
	}
}

/** Bytes as a short human string, for transfer progress. */
export function formatBytes(bytes: number): string {
	const units = ["B", "KiB", "MiB", "GiB", "TiB"];
	let v = bytes;
	let i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
