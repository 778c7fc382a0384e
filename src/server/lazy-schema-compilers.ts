import AjvCompiler from "@fastify/ajv-compiler";
import SerializerSelector from "@fastify/fast-json-stringify-compiler";
import type { FastifyServerOptions } from "fastify";

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions["schemaController"]>["compilersFactory"]>;
type Validate = ((data: unknown) => unknown) & { errors?: unknown };

const buildValidators = AjvCompiler();
const buildSerializers = SerializerSelector();

/**
 * Fastify's own schema compilers (Ajv for requests, fast-json-stringify for responses), each route's
 * schema compiled the first time the route is used instead of all at start: compiling the ~90 routes
 * took ~0.15 s of every server start, which a CLI command's embedded server, using a handful of
 * routes, paid each time. Every route is exercised by the contract and route-matrix tests, so a
 * schema that does not compile still shows in CI rather than in production.
 */
export const lazySchemaCompilers: CompilersFactory = {
	buildValidator: (externalSchemas, options) => {
		const compile = buildValidators(externalSchemas, options as Parameters<typeof buildValidators>[1]);
		return (route) => {
			let validate: Validate | undefined;
			const lazy: Validate = (data) => {
				validate ??= compile(route as Parameters<typeof compile>[0]) as Validate;
				const result = validate(data);
				lazy.errors = validate.errors;
				return result;
			};
			return lazy as never;
		};
	},
	buildSerializer: (externalSchemas, options) => {
		const compile = buildSerializers(externalSchemas, options as Parameters<typeof buildSerializers>[1]);
		return (route) => {
			let serialize: ((doc: unknown) => string) | undefined;
			return (doc: unknown) => {
				serialize ??= compile(route as Parameters<typeof compile>[0]);
				return serialize(doc);
			};
		};
	},
};
