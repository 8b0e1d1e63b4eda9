// Input size limits of the algorithm layer. Each one bounds memory and time per call; the engine
// and routes may impose smaller ones, never larger.

const KiB = 1024;
const MiB = 1024 * KiB;

/** Messages signed or verified whole (hashed in one pass); larger inputs should be signed as digests. */
export const MAX_SIGN_MESSAGE = 16 * MiB;
/** Messages given to HMAC. */
export const MAX_MAC_MESSAGE = 16 * MiB;
/** AES_256_GCM plaintexts: enough for envelope keys and small secrets; bulk data belongs under a data key. */
export const MAX_AES_PLAINTEXT = 4 * MiB;
/** Key material to wrap: the largest supported PKCS#8 (ML-DSA-87 with seed, about 4.9 KiB) with room to spare. */
export const MAX_WRAP_MATERIAL = 16 * KiB;
