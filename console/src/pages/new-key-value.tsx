import { useEffect, useRef, useState } from 'react';
import type { ProvisioningKey } from '../types';

/**
 * A new provisioning key's value, shown once: the API never returns it again, and the console
 * keeps it only until the admin dismisses this panel.
 */
export function NewKeyValue({
  keyRecord,
  onDone,
}: {
  keyRecord: ProvisioningKey;
  onDone: () => void;
}) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const valueRef = useRef<HTMLElement>(null);
  const panelRef = useRef<HTMLElement>(null);
  useEffect(() => panelRef.current?.focus(), []);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(keyRecord.value ?? '');
      setCopied('yes');
    } catch {
      // No clipboard access (e.g. plain HTTP on a remote host): select the text for Ctrl+C.
      const range = document.createRange();
      if (valueRef.current) range.selectNodeContents(valueRef.current);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      setCopied('failed');
    }
  };
  return (
    <section className="new-key" aria-labelledby="new-key-title" tabIndex={-1} ref={panelRef}>
      <h3 id="new-key-title">Key created for group {keyRecord.group}</h3>
      <p>
        Copy it now: this is the only time it is shown. Start a connector with{' '}
        <code>postern connector --provision-key &lt;value&gt;</code>.
      </p>
      <code className="key-value" id="new-key-value" ref={valueRef}>
        {keyRecord.value}
      </code>
      <div className="row-actions">
        <button type="button" onClick={() => void copy()}>
          Copy key
        </button>
        <button type="button" onClick={onDone}>
          Done, hide it
        </button>
        <span role="status">
          {copied === 'yes'
            ? 'Copied to the clipboard.'
            : copied === 'failed'
              ? 'Selected: press Ctrl+C to copy.'
              : ''}
        </span>
      </div>
    </section>
  );
}
