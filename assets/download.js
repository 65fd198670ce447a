// POST a form to the server and save the file it answers (a PDF), or throw the server's message:
// the export menu's "Export PDF" (export/ui.py) and the reports page (pages/reports.py) share it.
window.channelOps = Object.assign(window.channelOps || {}, {
  postAndSave: async function (url, fields, fallbackName) {
    const csrf = document.querySelector('input[name=csrf_token]');
    const response = await fetch(url, {
      method: 'POST', body: new URLSearchParams(fields), credentials: 'same-origin',
      headers: {'X-CSRF-Token': csrf ? csrf.value : ''}});
    if (!response.ok) {
      let text = response.status + ' ' + response.statusText;
      try { text = (await response.json()).error || text; } catch (e) { /* not JSON */ }
      throw new Error(text);
    }
    const blob = await response.blob();
    const match = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : fallbackName;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  },
});
