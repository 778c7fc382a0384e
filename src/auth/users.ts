import { AppError, type Clock, isoNow, newId } from "../common/index.js";
import { type Db, findUserByEmail, insertUser, type UserRow } from "../db/index.js";

const emailPattern = /^[^\s@]+@[^\s@]+$/;

/** Creates a user; the email is the login name and must be unique. */
export async function createUser(
	db: Db,
	input: { email: string; fullName?: string | null; role?: UserRow["role"] },
	clock: Clock,
): Promise<UserRow> {
	const email = input.email.trim().toLowerCase();
	if (!emailPattern.test(email)) throw new AppError("validation_failed", `'${input.email}' is not an email address`);
	return insertUser(db, {
		id: newId(),
		email,
		full_name: input.fullName ?? null,
		role: input.role ?? "user",
		created_at: isoNow(clock),
	});
}

/** The user with this email, created if missing (for the embedded local user). */
export async function ensureUser(
	db: Db,
	input: { email: string; fullName?: string | null; role?: UserRow["role"] },
	clock: Clock,
): Promise<UserRow> {
	return (await findUserByEmail(db, input.email)) ?? createUser(db, input, clock);
}
