// Signing projects, their members and profiles in the signer's Store. Every write is a single
// compare-and-set commit; names are checked before any key is built, so no name reaches into
// another project's key range.
import { systemClock, type Clock } from '../../core/ports.ts';
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { Store, StoreWrite } from '../../store/store.ts';
import { parseProfile, type SigningProfile } from '../profiles/index.ts';
import { MEMBER_ROLES, type MemberRole, type MemberView, type ProfileView, type SigningProjectView } from './signer-api.ts';

const PROJECT_PREFIX = 'signing/project/';
const MEMBER_PREFIX = 'signing/member/';
/** signing/member-of/<principal>/<project>: a principal's projects, for whoami and listing. */
const MEMBER_OF_PREFIX = 'signing/member-of/';
const PROFILE_PREFIX = 'signing/profile/';

export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Coffer principal names, and the CN of certificates the signer trusts. */
export const PRINCIPAL = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const MAX_DESCRIPTION = 1024;

interface ProfileRecord {
  readonly profile: SigningProfile;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function decodeJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new CofferError('STORE_CORRUPT', `the record of ${what} is not JSON`, { cause: error });
  }
}

export function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) throw new CofferError('INVALID_ARGUMENT', `${what} must be 1 to 64 of A-Z a-z 0-9 . _ - starting with a letter or digit`);
  return value;
}

export function checkPrincipal(value: unknown): string {
  if (typeof value !== 'string' || !PRINCIPAL.test(value)) throw new CofferError('INVALID_ARGUMENT', 'a principal name is 1 to 128 of A-Z a-z 0-9 . _ @ - starting with a letter or digit');
  return value;
}

export function checkRoles(value: unknown): MemberRole[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MEMBER_ROLES.length) {
    throw new CofferError('INVALID_ARGUMENT', `roles must be a non-empty list of ${MEMBER_ROLES.join(', ')}`);
  }
  const roles = value.filter((role): role is MemberRole => MEMBER_ROLES.includes(role as MemberRole));
  if (roles.length !== value.length || new Set(roles).size !== roles.length) {
    throw new CofferError('INVALID_ARGUMENT', `roles must be distinct values of ${MEMBER_ROLES.join(', ')}`);
  }
  return MEMBER_ROLES.filter((role) => roles.includes(role));
}

export function projectNotFound(name: string): CofferError {
  return new CofferError('SIGNING_PROJECT_NOT_FOUND', `no signing project ${name} is visible to you`);
}

export class ProjectStore {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock = systemClock) {
    this.#store = store;
    this.#clock = clock;
  }

  async createProject(input: { name: unknown; cofferProject?: unknown; description?: unknown }, by: string): Promise<SigningProjectView> {
    const name = checkName(input.name, 'name');
    const cofferProject = input.cofferProject === undefined ? name : checkName(input.cofferProject, 'cofferProject');
    const { description } = input;
    if (description !== undefined && (typeof description !== 'string' || description.length > MAX_DESCRIPTION)) {
      throw new CofferError('INVALID_ARGUMENT', `description must be text of at most ${MAX_DESCRIPTION} characters`);
    }
    const project: SigningProjectView = {
      name, cofferProject, ...(description === undefined ? {} : { description }), createdAt: this.#now(), createdBy: by,
    };
    try {
      await this.#store.commit([{ op: 'put', key: `${PROJECT_PREFIX}${name}`, value: encode(project), expectVersion: 0 }]);
    } catch (error) {
      if (isCofferError(error, 'STORE_CONFLICT')) throw new CofferError('SIGNING_PROJECT_EXISTS', `signing project ${name} already exists`);
      throw error;
    }
    return project;
  }

  /** The project, or undefined. Names that cannot exist are simply not found. */
  async findProject(name: string): Promise<SigningProjectView | undefined> {
    if (!NAME.test(name)) return undefined;
    const entry = await this.#store.get(`${PROJECT_PREFIX}${name}`);
    return entry === undefined ? undefined : decodeJson(entry.value, `signing project ${name}`) as SigningProjectView;
  }

  async listProjects(): Promise<SigningProjectView[]> {
    const entries = await this.#store.list(PROJECT_PREFIX);
    return entries.map((entry) => decodeJson(entry.value, entry.key) as SigningProjectView);
  }

  /** Deletes a project without profiles, with its memberships. */
  async deleteProject(name: string): Promise<void> {
    const entry = await this.#store.get(`${PROJECT_PREFIX}${name}`);
    if (entry === undefined) throw projectNotFound(name);
    if ((await this.#store.list(`${PROFILE_PREFIX}${name}/`, { limit: 1 })).length > 0) {
      throw new CofferError('SIGNING_PROJECT_NOT_EMPTY', `signing project ${name} still has profiles`);
    }
    const writes: StoreWrite[] = [{ op: 'delete', key: `${PROJECT_PREFIX}${name}`, expectVersion: entry.version }];
    for (const member of await this.listMembers(name)) {
      writes.push({ op: 'delete', key: `${MEMBER_PREFIX}${name}/${member.principal}` }, { op: 'delete', key: `${MEMBER_OF_PREFIX}${member.principal}/${name}` });
    }
    await this.#store.commit(writes);
  }

  async member(project: string, principal: string): Promise<MemberView | undefined> {
    if (!NAME.test(project) || !PRINCIPAL.test(principal)) return undefined;
    const entry = await this.#store.get(`${MEMBER_PREFIX}${project}/${principal}`);
    return entry === undefined ? undefined : decodeJson(entry.value, `member ${principal} of ${project}`) as MemberView;
  }

  async listMembers(project: string): Promise<MemberView[]> {
    const entries = await this.#store.list(`${MEMBER_PREFIX}${checkName(project, 'project')}/`);
    return entries.map((entry) => decodeJson(entry.value, entry.key) as MemberView);
  }

  /** The projects a principal belongs to, with its roles there. */
  async membershipsOf(principal: string): Promise<MemberView[]> {
    if (!PRINCIPAL.test(principal)) return [];
    const entries = await this.#store.list(`${MEMBER_OF_PREFIX}${principal}/`);
    const members = await Promise.all(entries.map((entry) => this.member(entry.key.slice(`${MEMBER_OF_PREFIX}${principal}/`.length), principal)));
    return members.filter((member): member is MemberView => member !== undefined);
  }

  async setMember(project: string, principalName: unknown, roles: unknown, by: string): Promise<MemberView> {
    const principal = checkPrincipal(principalName);
    const member: MemberView = { project, principal, roles: checkRoles(roles), updatedAt: this.#now(), updatedBy: by };
    await this.#store.commit([
      { op: 'put', key: `${MEMBER_PREFIX}${project}/${principal}`, value: encode(member) },
      { op: 'put', key: `${MEMBER_OF_PREFIX}${principal}/${project}`, value: new Uint8Array() },
    ]);
    return member;
  }

  async removeMember(project: string, principalName: unknown): Promise<void> {
    const principal = checkPrincipal(principalName);
    const entry = await this.#store.get(`${MEMBER_PREFIX}${project}/${principal}`);
    if (entry === undefined) throw new CofferError('SIGNING_MEMBER_NOT_FOUND', `${principal} is not a member of signing project ${project}`);
    await this.#store.commit([
      { op: 'delete', key: `${MEMBER_PREFIX}${project}/${principal}`, expectVersion: entry.version },
      { op: 'delete', key: `${MEMBER_OF_PREFIX}${principal}/${project}` },
    ]);
  }

  /** Parses and stores a profile (replacing one of the same name); `validate` runs on the parsed profile first. */
  async putProfile(project: string, name: unknown, body: unknown, by: string, validate: (profile: SigningProfile) => Promise<void>): Promise<ProfileView> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CofferError('INVALID_ARGUMENT', 'a profile must be a JSON object');
    for (const field of ['project', 'name']) {
      if (field in body) throw new CofferError('INVALID_ARGUMENT', `profile.${field}: comes from the path, not the body`);
    }
    const profile = parseProfile({ ...body, project, name: checkName(name, 'profile name') });
    await validate(profile);
    const record: ProfileRecord = { profile, updatedAt: this.#now(), updatedBy: by };
    await this.#store.commit([{ op: 'put', key: `${PROFILE_PREFIX}${project}/${profile.name}`, value: encode(record) }]);
    return viewOf(record);
  }

  async profile(project: string, name: string): Promise<SigningProfile> {
    return (await this.#profileRecord(project, name)).profile;
  }

  async profileView(project: string, name: string): Promise<ProfileView> {
    return viewOf(await this.#profileRecord(project, name));
  }

  async listProfiles(project: string): Promise<ProfileView[]> {
    const entries = await this.#store.list(`${PROFILE_PREFIX}${checkName(project, 'project')}/`);
    return entries.map((entry) => viewOf(decodeJson(entry.value, entry.key) as ProfileRecord));
  }

  async deleteProfile(project: string, name: string): Promise<void> {
    const key = `${PROFILE_PREFIX}${project}/${name}`;
    const entry = NAME.test(name) ? await this.#store.get(key) : undefined;
    if (entry === undefined) throw profileNotFound(project, name);
    await this.#store.commit([{ op: 'delete', key, expectVersion: entry.version }]);
  }

  async #profileRecord(project: string, name: string): Promise<ProfileRecord> {
    if (!NAME.test(project) || !NAME.test(name)) throw profileNotFound(project, name);
    const entry = await this.#store.get(`${PROFILE_PREFIX}${project}/${name}`);
    if (entry === undefined) throw profileNotFound(project, name);
    return decodeJson(entry.value, `profile ${project}/${name}`) as ProfileRecord;
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }
}

function profileNotFound(project: string, name: string): CofferError {
  return new CofferError('SIGNING_PROFILE_NOT_FOUND', `signing project ${project} has no profile ${name.slice(0, 64)}`);
}

function viewOf(record: ProfileRecord): ProfileView {
  const { profile } = record;
  return {
    ...profile,
    checks: profile.checks.map((check) => ({ ...check })),
    updatedAt: record.updatedAt,
    updatedBy: record.updatedBy,
  };
}

