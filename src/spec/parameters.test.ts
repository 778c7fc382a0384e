import { describe, expect, it } from "vitest";
import { substituteParameters } from "./parameters.js";

describe("parameter substitution", () => {
	it("substitutes braced and bare names as REANA does", () => {
		expect(substituteParameters("python ${script} --n $n", { script: "a.py", n: 3 })).toBe("python a.py --n 3");
	});

	it("leaves unknown names for the shell and turns $$ into $", () => {
		expect(substituteParameters("echo $HOME ${USER} $$x $", {})).toBe("echo $HOME ${USER} $x $");
	});

	it("renders booleans and None as Python's str() does", () => {
		expect(substituteParameters("${a} ${b} ${c}", { a: true, b: false, c: null })).toBe("True False None");
	});
});
