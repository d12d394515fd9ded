import { PageHeader } from '../components';
import { PagedLog } from './paged-log';

const COLUMNS = [
  'at',
  'actor',
  'source',
  'method',
  'path',
  'kind',
  'name',
  'outcome',
  'status',
  'error_code',
];

/** The audit log: who changed what through the admin API, newest first. */
export function AuditLogPage() {
  return (
    <>
      <PageHeader title="Audit log" />
      <PagedLog
        path="/audit-log"
        columns={COLUMNS}
        caption="Audit log"
        empty="The audit log is empty."
      />
    </>
  );
}
