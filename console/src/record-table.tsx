import { formatTime } from './components';

/** The preferred columns the records have; every field only when they have none of those. */
function columnsOf(
  items: readonly Record<string, unknown>[],
  preferred: readonly string[],
): string[] {
  const present = new Set(items.flatMap((i) => Object.keys(i)));
  const chosen = preferred.filter((c) => present.has(c));
  return chosen.length > 0 ? chosen : [...present].slice(0, 8);
}

function cell(key: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (/(_at|^at|^time|^timestamp)$/.test(key)) return formatTime(value);
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

/** A table of log records (activity, audit) whose fields come from the edge. */
export function RecordTable({
  items,
  preferred,
  caption,
}: {
  items: readonly Record<string, unknown>[];
  preferred: readonly string[];
  caption: string;
}) {
  const columns = columnsOf(items, preferred);
  return (
    <table>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c}>
              {c.replace(/_/g, ' ')}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {items.map((item, i) => (
          <tr key={typeof item.id === 'string' ? item.id : i}>
            {columns.map((c) => (
              <td key={c}>{cell(c, item[c])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
