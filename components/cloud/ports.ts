/** Well-known database ports: never open to the internet (network.ts validates, the policy pack enforces). */
export const DATABASE_PORTS: ReadonlyMap<number, string> = new Map([
  [5432, "PostgreSQL"],
  [6543, "Supabase pooler"],
  [3306, "MySQL"],
  [6379, "Redis"],
  [27017, "MongoDB"],
  [6333, "Qdrant"],
  [6334, "Qdrant gRPC"],
  [7687, "Neo4j Bolt"],
  [7474, "Neo4j HTTP"],
  [9200, "Elasticsearch"],
  [9042, "Cassandra"],
  [5984, "CouchDB"],
  [1433, "SQL Server"],
  [1521, "Oracle"],
  [11211, "Memcached"],
]);

/** Sources meaning "anyone on the internet". */
export const INTERNET: readonly string[] = ["0.0.0.0/0", "::/0"];

/**
 * The ports a DigitalOcean firewall `portRange` covers: "443", "8000-8100", "all" or
 * undefined (all ports, as for ICMP). Returns [low, high].
 */
export function portRangeBounds(portRange: string | undefined): [number, number] | undefined {
  if (portRange === undefined || portRange === "" || portRange === "all" || portRange === "0")
    return [1, 65535];
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(portRange.trim());
  if (!match) return undefined;
  const low = Number(match[1]);
  const high = match[2] === undefined ? low : Number(match[2]);
  return low <= high ? [low, high] : undefined;
}

/** Database ports inside a firewall port range, ascending. */
export function databasePortsIn(portRange: string | undefined): number[] {
  const bounds = portRangeBounds(portRange);
  if (!bounds) return [];
  return [...DATABASE_PORTS.keys()]
    .filter((port) => port >= bounds[0] && port <= bounds[1])
    .sort((a, b) => a - b);
}
