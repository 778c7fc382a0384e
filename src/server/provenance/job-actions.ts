import type { RoCrateEntity } from "../../contract/index.js";
import type { JobRow } from "../../db/index.js";

/** schema.org's ActionStatusType of a run or job state. */
export function actionStatusOf(status: string): { "@id": string } {
	const name =
		status === "finished"
			? "CompletedActionStatus"
			: status === "failed" || status === "stopped"
				? "FailedActionStatus"
				: status === "created"
					? "PotentialActionStatus"
					: "ActiveActionStatus";
	return { "@id": `http://schema.org/${name}` };
}

const dockerImage = "https://w3id.org/ro/terms/workflow-run#DockerImage";
const sifImage = "https://w3id.org/ro/terms/workflow-run#SIFImage";

/**
 * A container image as a step names it (`python:3.12`, `ghcr.io/org/tool:1@sha256:…`, `docker://…`,
 * a `.sif` file). Its digest is known only when the reference pins one: Orrery does not ask the
 * runtime which image a tag resolved to.
 */
export function containerImageEntity(ref: string): RoCrateEntity {
	const id = `#image-${encodeURIComponent(ref)}`;
	let rest = ref.replace(/^docker:\/\//, "");
	if (/\.sif$/i.test(rest) || rest.startsWith("/") || rest.startsWith("library://")) {
		return { "@id": id, "@type": "ContainerImage", additionalType: { "@id": sifImage }, name: rest };
	}
	let digest: string | undefined;
	const at = rest.indexOf("@");
	if (at >= 0) {
		digest = rest.slice(at + 1);
		rest = rest.slice(0, at);
	}
	let tag: string | undefined;
	const colon = rest.lastIndexOf(":");
	if (colon > rest.lastIndexOf("/")) {
		tag = rest.slice(colon + 1);
		rest = rest.slice(0, colon);
	}
	let registry = "docker.io";
	const first = rest.split("/")[0] ?? "";
	if (rest.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")) {
		registry = first;
		rest = rest.slice(first.length + 1);
	}
	const entity: RoCrateEntity = {
		"@id": id,
		"@type": "ContainerImage",
		additionalType: { "@id": dockerImage },
		registry,
		name: rest,
	};
	if (tag) entity.tag = tag;
	if (digest?.startsWith("sha256:")) entity.sha256 = digest.slice("sha256:".length);
	else entity.description = "the image as the step names it; which digest the tag resolved to is not recorded";
	return entity;
}

/** What the export knows of a job's run. */
export interface JobActionContext {
	agent: string;
	/** The `@id` of the entity the job's step is an instance of. */
	instrumentOf(stepName: string): string;
}

/**
 * A job as a CreateAction: its step, command, image, times, status, exit code and attempt; a job
 * that reused another job's results (CACHE=on) says which. Returns the action and the entities it refers to.
 */
export function jobAction(job: JobRow, ctx: JobActionContext): RoCrateEntity[] {
	const id = `#job-${job.id}`;
	const extra: RoCrateEntity[] = [];
	const property = (key: string, name: string, value: unknown) => {
		const pv: RoCrateEntity = { "@id": `${id}-${key}`, "@type": "PropertyValue", name, value };
		extra.push(pv);
		return { "@id": pv["@id"] };
	};
	const properties = [property("attempt", "attempt", job.attempt), property("backend", "compute backend", job.backend)];
	if (job.exit_code !== null) properties.push(property("exit-code", "exit code", job.exit_code));
	const notes: string[] = [];
	const action: RoCrateEntity = {
		"@id": id,
		"@type": "CreateAction",
		name: job.step_name,
		description: job.command,
		instrument: { "@id": ctx.instrumentOf(job.step_name) },
		agent: { "@id": ctx.agent },
		actionStatus: actionStatusOf(job.status),
	};
	if (job.started_at) action.startTime = job.started_at;
	if (job.finished_at) action.endTime = job.finished_at;
	if (job.image) {
		if (job.image_used === 0) notes.push(`the step names the image ${job.image}, but the job ran on the host`);
		else {
			const image = containerImageEntity(job.image);
			extra.push(image);
			action.containerImage = { "@id": image["@id"] };
		}
	}
	if (job.cached_from) {
		properties.push(property("cached-from", "cached from", job.cached_from));
		// The job's message names the step and run reused (`reused the results of step s of NAME.N (CACHE=on)`).
		notes.push(`not run: ${job.message ?? `reused the results of job ${job.cached_from} (CACHE=on)`}`);
	}
	if ((job.status === "failed" || job.status === "stopped") && job.message) action.error = job.message;
	if (notes.length > 0) action.disambiguatingDescription = notes.join("; ");
	action.additionalProperty = properties;
	return [action, ...extra];
}
