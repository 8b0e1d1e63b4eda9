// The signing service's HTTP API as its clients see it: the shapes of answers and the routes. The
// server (signer-app.ts) and the SDK (../client/signer-client.ts) are both written against this file.
//
// Transport: HTTPS; the caller is a client certificate trusted by the signer's client CA (principal:
// the subject CN), or `Authorization: Bearer <token>` with a token from Coffer's /v1/auth/login
// (resolved by asking Coffer who it belongs to). JSON bodies; errors `{"error":{"code","message"}}`
// with Coffer's codes and statuses. Byte values in JSON are hex (digests).
//
// Routes (role needed; "member" = any role in the project; signer admins may do everything but submit):
//   GET    /v1/signing/health                                  none: {status:'ok', node}
//   GET    /v1/signing/whoami                                  any: WhoAmI
//   POST   /v1/signing/projects                                signer admin: {name, cofferProject?, description?} → 201 SigningProjectView
//   GET    /v1/signing/projects                                any: {projects: SigningProjectView[]} (the caller's; all for admins)
//   GET    /v1/signing/projects/:project                       member: SigningProjectView
//   DELETE /v1/signing/projects/:project                       signer admin, project without profiles: 204
//   GET    /v1/signing/projects/:project/members               member: {members: MemberView[]}
//   PUT    /v1/signing/projects/:project/members/:principal    project admin: {roles: MemberRole[]} → MemberView
//   DELETE /v1/signing/projects/:project/members/:principal    project admin: 204
//   GET    /v1/signing/projects/:project/profiles              member: {profiles: ProfileView[]}
//   PUT    /v1/signing/projects/:project/profiles/:profile     project admin: profile JSON (parseProfile's fields but project/name) → ProfileView
//   GET    /v1/signing/projects/:project/profiles/:profile     member: ProfileView
//   DELETE /v1/signing/projects/:project/profiles/:profile     project admin: 204
//   POST   /v1/signing/projects/:project/uploads               submitter: {profile, size, fileName?, metadata?} → 201 UploadView
//   GET    /v1/signing/uploads/:uploadId                       its submitter: UploadView (offset = where to resume)
//   PATCH  /v1/signing/uploads/:uploadId                       its submitter: raw bytes (Content-Type application/offset+octet-stream),
//                                                              header Upload-Offset: the offset they start at → UploadView
//   DELETE /v1/signing/uploads/:uploadId                       its submitter: 204
//   POST   /v1/signing/projects/:project/jobs                  submitter: {profile, uploadId} | {profile, digest:{hash, value}, size, fileName?, metadata?}
//                                                              → 202 JobView (it runs in the background)
//   GET    /v1/signing/projects/:project/jobs                  member: ?limit=&state=&after= → {jobs: JobView[], next?} newest first
//   GET    /v1/signing/jobs/:jobId                             member of its project: ?waitSeconds=0..60 long-polls until final → JobView
//   GET    /v1/signing/jobs/:jobId/output                      member: the signed output (Content-Type: result.mediaType,
//                                                              X-Coffer-Suffix, X-Coffer-Sha256)
//   GET    /v1/signing/projects/:project/artifacts/:sha256     member: {jobs: JobView[]}: jobs of the artifact with that SHA-256
//   GET    /v1/signing/projects/:project/outputs/:sha256       member: a retained signed output by its SHA-256
//   POST   /v1/signing/telemetry                               submitter of event.project: TelemetryEvent → 202 {accepted: true}
//   GET    /v1/signing/stats                                   ?from=YYYY-MM-DD&to=YYYY-MM-DD&project=&profile=&node=&path=&outcome=&groupBy=day,project,...
//                                                              signer admins and auditors: all; members: their projects → StatsView
import type { JobArtifact, SigningJob } from '../jobs/index.ts';
import type { PkiHash } from '../../pki/pki-signer.ts';

export const SIGNING_API_PREFIX = '/v1/signing';

/** submitter: uploads, jobs, telemetry; approver: sees what waits for approval (approves in Coffer); admin: members and profiles. */
export type MemberRole = 'admin' | 'submitter' | 'approver';
export const MEMBER_ROLES: readonly MemberRole[] = ['admin', 'submitter', 'approver'];

export interface WhoAmI {
  readonly principal: string;
  /** How the signer knows the caller: 'certificate' (mutual TLS) or 'token' (a Coffer bearer token). */
  readonly authenticatedBy: 'certificate' | 'token';
  readonly admin: boolean;
  readonly auditor: boolean;
  readonly projects: readonly { readonly project: string; readonly roles: readonly MemberRole[] }[];
}

export interface SigningProjectView {
  readonly name: string;
  /** The Coffer project whose keys this project's profiles may name (default: the same name). */
  readonly cofferProject: string;
  readonly description?: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface MemberView {
  readonly project: string;
  readonly principal: string;
  readonly roles: readonly MemberRole[];
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface ProfileView {
  readonly project: string;
  readonly name: string;
  readonly format: string;
  readonly key: string;
  readonly algorithm?: string;
  readonly timeStampKey?: string;
  readonly checks: readonly Readonly<Record<string, unknown>>[];
  readonly approval?: { readonly threshold: number; readonly approvers: readonly string[] };
  readonly allowDigestSubmission: boolean;
  readonly retentionDays: number;
  readonly description?: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface UploadView {
  readonly uploadId: string;
  readonly project: string;
  readonly profile: string;
  /** Bytes received: where the next PATCH starts. */
  readonly offset: number;
  readonly size: number;
  readonly complete: boolean;
  readonly expiresAt: string;
}

/** A job as the API shows it: the stored job without the file's place on the service's disk. */
export type JobView = Omit<SigningJob, 'artifact'> & { readonly artifact: Omit<JobArtifact, 'path'> };

/** What a direct-mode builder reports after signing through Coffer itself. */
export interface TelemetryEvent {
  readonly project: string;
  readonly profile: string;
  readonly digest: { readonly hash: PkiHash; readonly value: string };
  readonly size: number;
  readonly outcome: 'signed' | 'failed';
  readonly durationMs: number;
  /** The Coffer node that signed (as the SDK reported it), if known. */
  readonly node?: string;
  readonly keyId?: string;
  readonly errorCode?: string;
}

export type StatsDimension = 'day' | 'project' | 'profile' | 'node' | 'path' | 'outcome';
export const STATS_DIMENSIONS: readonly StatsDimension[] = ['day', 'project', 'profile', 'node', 'path', 'outcome'];

export interface StatsRow {
  readonly day?: string;
  readonly project?: string;
  readonly profile?: string;
  readonly node?: string;
  /** 'service': a job of this service; 'direct': a builder's telemetry. */
  readonly path?: 'service' | 'direct';
  readonly outcome?: 'signed' | 'failed';
  readonly count: number;
  readonly bytes: number;
  readonly durationMs: number;
}

export interface StatsView {
  readonly from: string;
  readonly to: string;
  readonly groupBy: readonly StatsDimension[];
  readonly rows: readonly StatsRow[];
}
