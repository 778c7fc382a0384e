/** Sizes for laying out a DAG from left to right. */
export interface DagSizes {
	nodeWidth: number;
	nodeHeight: number;
	gapX: number;
	gapY: number;
	margin: number;
}

/** A node placed on the canvas: its column is its depth, its row its order within the column. */
export interface PlacedNode {
	id: string;
	x: number;
	y: number;
	column: number;
	row: number;
}

/** A laid-out DAG: placed nodes, edges as SVG paths, and the canvas size. */
export interface DagLayout {
	nodes: PlacedNode[];
	edges: { from: string; to: string; path: string }[];
	width: number;
	height: number;
}

/**
 * Places each node in the column of its longest path from a root (so every edge points right) and
 * stacks the nodes of a column in input order. Edges that would close a cycle are ignored.
 */
export function layoutDag(
	ids: readonly string[],
	edges: readonly (readonly [string, string])[],
	s: DagSizes,
): DagLayout {
	const known = new Set(ids);
	const parents = new Map<string, string[]>(ids.map((id) => [id, []]));
	for (const [from, to] of edges) if (known.has(from) && known.has(to) && from !== to) parents.get(to)?.push(from);
	const depth = new Map<string, number>();
	const visiting = new Set<string>();
	const depthOf = (id: string): number => {
		const cached = depth.get(id);
		if (cached !== undefined) return cached;
		if (visiting.has(id)) return -1; // a cycle: this edge does not count
		visiting.add(id);
		let d = 0;
		for (const p of parents.get(id) ?? []) d = Math.max(d, depthOf(p) + 1);
		visiting.delete(id);
		depth.set(id, d);
		return d;
	};
	const rows = new Map<number, number>();
	const nodes: PlacedNode[] = ids.map((id) => {
		const column = depthOf(id);
		const row = rows.get(column) ?? 0;
		rows.set(column, row + 1);
		return {
			id,
			column,
			row,
			x: s.margin + column * (s.nodeWidth + s.gapX),
			y: s.margin + row * (s.nodeHeight + s.gapY),
		};
	});
	const at = new Map(nodes.map((n) => [n.id, n]));
	const placedEdges: DagLayout["edges"] = [];
	for (const [from, to] of edges) {
		const a = at.get(from);
		const b = at.get(to);
		if (!a || !b || b.column <= a.column) continue;
		const x1 = a.x + s.nodeWidth;
		const y1 = a.y + s.nodeHeight / 2;
		const x2 = b.x;
		const y2 = b.y + s.nodeHeight / 2;
		const bend = Math.max(20, (x2 - x1) / 2);
		placedEdges.push({ from, to, path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}` });
	}
	const columns = Math.max(0, ...nodes.map((n) => n.column + 1));
	const tallest = Math.max(0, ...rows.values());
	return {
		nodes,
		edges: placedEdges,
		width: s.margin * 2 + columns * s.nodeWidth + Math.max(0, columns - 1) * s.gapX,
		height: s.margin * 2 + tallest * s.nodeHeight + Math.max(0, tallest - 1) * s.gapY,
	};
}
