export { loadSecretKey, type SecretBox, secretBox } from "./secret-box.js";
export {
	addSecrets,
	deleteSecrets,
	type JobSecrets,
	listSecrets,
	SecretsNotFoundError,
	type SecretType,
	secretsForJobs,
} from "./user-secrets.js";
