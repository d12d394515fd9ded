import { PageHeader } from '../components';
import { PagedLog } from './paged-log';

const COLUMNS = [
  'time',
  'kind',
  'user',
  'destination',
  'application',
  'action',
  'rule',
  'connector',
  'reason',
  'close_reason',
  'edge',
];

/** User activity of every edge: access decisions and session ends, newest first. */
export function ActivityPage() {
  return (
    <>
      <PageHeader title="User activity" />
      <PagedLog
        path="/activity"
        columns={COLUMNS}
        caption="User activity"
        empty="No user activity yet."
        refreshMs={5000}
      />
    </>
  );
}
