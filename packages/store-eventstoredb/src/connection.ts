// Connection strings, as EventStoreDB's clients define them:
//   esdb://[user:password@]host[:port][,host[:port]...][/][?key=value&...]      one node, or a cluster
//                                                                           by its gossip seeds
//   esdb+discover://[user:password@]host[:port][?...]                       a cluster found through DNS
// The client parses them itself; the adapter checks them first, so that a mistyped string fails with a
// message that says what is wrong (and never prints the password).

/**
 * What a connection string names: the nodes, discovery, TLS, the user name (never the password) and the other
 * settings.
 */
export interface ConnectionStringSummary {
  /** Whether the cluster is found through DNS (`esdb+discover://`). */
  readonly discover: boolean;
  /** The nodes (one for a single node; the gossip seeds or the DNS name of a cluster). */
  readonly hosts: readonly { readonly host: string; readonly port: number }[];
  /** Default true, as in the client. `tls=false` for a local insecure node. */
  readonly tls: boolean;
  readonly username: string | undefined;
  /** The query options, as given (keys as written). */
  readonly options: Readonly<Record<string, string>>;
}

const SCHEME = /^(esdb|esdb\+discover):\/\//i;
const DEFAULT_PORT = 2113;

/** Whether a string is meant as an EventStoreDB/KurrentDB connection string (by its scheme). */
export const isEventStoreDbConnectionString = (value: string): boolean => SCHEME.test(value.trim());

/** The string with its password replaced by `***`, for logs and messages. */
export const redactConnectionString = (value: string): string =>
  value.replace(/^(esdb(?:\+discover)?:\/\/[^:@/?]*):[^@/?]*@/i, '$1:***@');

/** Checks a connection string and describes it; throws a RangeError that says what is wrong. */
export const parseConnectionString = (value: string): ConnectionStringSummary => {
  const text = value.trim();
  const fail = (problem: string): never => {
    throw new RangeError(
      `invalid EventStoreDB connection string ${JSON.stringify(redactConnectionString(text))}: ${problem}`,
    );
  };
  const scheme = SCHEME.exec(text);
  if (scheme === null) return fail('it must start with esdb:// or esdb+discover://');
  const discover = (scheme[1] as string).toLowerCase() === 'esdb+discover';
  let rest = text.slice(scheme[0].length);
  let username: string | undefined;
  const at = rest.indexOf('@');
  const queryStart = rest.indexOf('?');
  if (at >= 0 && (queryStart < 0 || at < queryStart)) {
    const credentials = rest.slice(0, at);
    const colon = credentials.indexOf(':');
    if (colon <= 0 || colon === credentials.length - 1) fail('credentials must be user:password@');
    username = decodeURIComponent(credentials.slice(0, colon));
    rest = rest.slice(at + 1);
  }
  const [hostPart = '', query] = rest.split('?', 2) as [string, string | undefined];
  const hostList = hostPart.replace(/\/$/, '');
  if (hostList === '') fail('it names no host');
  const hosts = hostList.split(',').map((entry) => {
    const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d+))?$/.exec(entry.trim());
    if (match === null) return fail(`${JSON.stringify(entry)} is not host or host:port`);
    const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`port ${match[2]} is out of range`);
    return { host: match[1] as string, port };
  });
  if (discover && hosts.length > 1) fail('esdb+discover:// takes one DNS name, not a list of hosts');
  const options: Record<string, string> = {};
  for (const pair of (query ?? '').split('&').filter((part) => part !== '')) {
    const [key = '', optionValue] = pair.split('=', 2) as [string, string | undefined];
    if (key === '' || optionValue === undefined) fail(`${JSON.stringify(pair)} is not key=value`);
    options[key] = decodeURIComponent(optionValue as string);
  }
  const tlsOption = Object.entries(options).find(([key]) => key.toLowerCase() === 'tls')?.[1];
  if (tlsOption !== undefined && !/^(true|false)$/i.test(tlsOption)) fail('tls must be true or false');
  return {
    discover,
    hosts,
    tls: tlsOption === undefined || tlsOption.toLowerCase() === 'true',
    username,
    options,
  };
};
