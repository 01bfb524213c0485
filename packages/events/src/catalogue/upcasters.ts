/**
 * Schema evolution. Stored events are never rewritten: an event written with an older schema version is
 * upcast, step by step, to the current version when it is read. The hash chain covers the stored form, so
 * upcasting never disturbs verification.
 */
export interface Upcaster {
  readonly type: string;
  /** The version this step reads; it produces fromVersion + 1. */
  readonly fromVersion: number;
  /** Turns data of `fromVersion` into data of the next version. */
  readonly upcast: (data: unknown) => unknown;
}

/** The upcasters of every event type, by the version each reads. */
export interface UpcasterRegistry {
  /** Upcasts `data` of `type` from `schemaVersion` to the newest version known for that type. */
  readonly upcast: (
    type: string,
    schemaVersion: number,
    data: unknown,
  ) => { schemaVersion: number; data: unknown };
  /**
   * Whether a step reads `type` at `schemaVersion` (so that `upcast` would change it). Optional: when it is
   * there, the decoder asks it first and calls `upcast` only for events that have a step to take.
   */
  readonly reads?: (type: string, schemaVersion: number) => boolean;
}

/** A registry of upcasting steps; two steps from the same version of the same type are an error. */
export const createUpcasterRegistry = (upcasters: readonly Upcaster[]): UpcasterRegistry => {
  // By type, then by the version a step reads: every event read looks its type up here, and a lookup by the
  // type string as read costs less than building a `${type}@${version}` key for it.
  const steps = new Map<string, Map<number, Upcaster>>();
  for (const step of upcasters) {
    let byVersion = steps.get(step.type);
    if (byVersion === undefined) steps.set(step.type, (byVersion = new Map()));
    if (byVersion.has(step.fromVersion))
      throw new Error(`Two upcasters read ${step.type} version ${step.fromVersion}`);
    byVersion.set(step.fromVersion, step);
  }
  return {
    reads: (type, schemaVersion) => steps.get(type)?.has(schemaVersion) ?? false,
    upcast: (type, schemaVersion, data) => {
      const byVersion = steps.get(type);
      if (byVersion === undefined) return { schemaVersion, data };
      let version = schemaVersion;
      let current = data;
      for (let step = byVersion.get(version); step; step = byVersion.get(version)) {
        current = step.upcast(current);
        version += 1;
      }
      return { schemaVersion: version, data: current };
    },
  };
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * ClickTracked v1 -> v2. Version 1 kept the landing data flat (`campaign`, `landingUrl`), called the
 * fingerprints `ipHash`/`userAgentHash`, and had a bare `fraud` flag with no reason. Version 2 groups the
 * landing data, names the fingerprints for what they are (keyed HMACs), and records why a click was flagged.
 */
export const clickTrackedV1ToV2: Upcaster = {
  type: 'ClickTracked',
  fromVersion: 1,
  upcast: (data) => {
    if (!isRecord(data)) return data; // leave malformed data for the decoder to report
    const { campaign, landingUrl, ipHash, userAgentHash, fraud, ...rest } = data;
    return {
      ...rest,
      landing: { campaign: campaign ?? null, url: landingUrl ?? null },
      ipFingerprint: ipHash ?? null,
      userAgentFingerprint: userAgentHash ?? null,
      fraudReason: fraud === true ? 'flagged as fraud (schema v1 recorded no reason)' : null,
    };
  },
};

/**
 * PartnerJoined v1 -> v2. Version 2 only added optional fields (contact e-mail, payee details, tax id) and
 * marked the name as personal data: a v1 event reads as it is, its name in plaintext (see docs/events.md on
 * what erasure can do for it).
 */
export const partnerJoinedV1ToV2: Upcaster = {
  type: 'PartnerJoined',
  fromVersion: 1,
  // A copy, so that the event read carries its new schema version (the decoder keeps an event whose data
  // an upcaster returned unchanged as it was stored).
  upcast: (data) => (isRecord(data) ? { ...data } : data),
};

/** The upcasters of this library's own catalogue. */
export const catalogueUpcasters = createUpcasterRegistry([clickTrackedV1ToV2, partnerJoinedV1ToV2]);
