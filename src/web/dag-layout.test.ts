import { describe, expect, it } from "vitest";
import { layoutDag } from "./dag-layout.js";

const sizes = { nodeWidth: 100, nodeHeight: 40, gapX: 20, gapY: 10, margin: 5 };

describe("layoutDag", () => {
	it("puts each node one column right of its deepest parent and stacks siblings", () => {
		const layout = layoutDag(
			["a", "b", "c", "d"],
			[
				["a", "b"],
				["a", "c"],
				["b", "d"],
				["c", "d"],
			],
			sizes,
		);
		const at = Object.fromEntries(layout.nodes.map((n) => [n.id, [n.column, n.row]]));
		expect(at).toEqual({ a: [0, 0], b: [1, 0], c: [1, 1], d: [2, 0] });
		expect(layout.edges).toHaveLength(4);
		expect(layout.width).toBe(5 * 2 + 3 * 100 + 2 * 20);
	});

	it("survives a cycle instead of looping forever", () => {
		const layout = layoutDag(
			["a", "b"],
			[
				["a", "b"],
				["b", "a"],
			],
			sizes,
		);
		expect(layout.nodes).toHaveLength(2);
	});
});
