// Wall display, in the browser: rotate through the playlist, show the "stale since" banner when
// refreshes stop succeeding, and scale the view to fill the screen without scrolling. Runs every
// second from a clientside callback, so the banner appears while the server is unreachable (the
// views themselves are rendered by the server: until a refresh succeeds the last good one stays).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  display: {
    tick: function (_n, ok, slide, text) {
      const s = window.__display || (window.__display = {slideAt: Date.now(), seen: null, okAt: Date.now()});
      const now = Date.now();
      const noUpdate = window.dash_clientside.no_update;
      if (ok && ok.stamp !== s.seen) {
        s.seen = ok.stamp;
        s.okAt = now;
      }
      fit();
      turnPages(now - s.slideAt);
      fitText();
      if (!ok) {
        return [noUpdate, noUpdate, noUpdate];
      }
      // Stale: a refresh was due and none succeeded within a grace of 10 s.
      const stale = now - s.okAt > ok.refresh * 1000 + 10000;
      const banner = stale ? text.stale.replace('{since}', ok.label) : '';
      let next = noUpdate;
      const count = ok.dwell.length;
      if (count > 1 && now - s.slideAt >= ok.dwell[(slide || 0) % count] * 1000) {
        next = ((slide || 0) + 1) % count;
        s.slideAt = now;
      }
      return [next, banner, !stale];
    }
  }
});

// A wall layout's long lists (.wall-pager, display/wall/base.py) show a page at a time: page
// floor(elapsed / seconds) mod pages, counted from the time the view came on screen, so every page
// is seen while the view stays and a data refresh does not send the list back to its first page.
function turnPages(elapsed) {
  document.querySelectorAll('#display-body .wall-pager').forEach(function (pager) {
    const pages = pager.querySelectorAll(':scope > .wall-page');
    const seconds = Number(pager.dataset.seconds) || 5;
    const shown = Math.floor(elapsed / 1000 / seconds) % Math.max(1, pages.length);
    pages.forEach(function (page, i) {
      page.classList.toggle('on', i === shown);
    });
    const panel = pager.closest('.wall-panel');
    const marker = panel && panel.querySelector('.wall-page-marker');
    if (marker && marker.dataset.template) {
      marker.textContent = marker.dataset.template.replace('{page}', shown + 1)
        .replace('{pages}', pages.length);
    }
  });
}

// A wall layout's text that is wider than its box (a long unit name, an English label) is set in a
// smaller type until it fits, from its own size each time (the text may have changed): never cut.
const FIT = '#display-body .wall .wall-cell, #display-body .wall-value, #display-body .wall-label, ' +
  '#display-body .wall-note, #display-body .wall-heading, #display-body .wall-mx-head, ' +
  '#display-body .wall-mx-core, #display-body .wall-panel-title';
function fitText() {
  document.querySelectorAll(FIT).forEach(function (el) {
    if (!el.offsetParent) {
      return;  // on a page not shown now
    }
    el.style.fontSize = '';
    for (let i = 0; i < 8 && el.scrollWidth > el.clientWidth + 1; i++) {
      const size = parseFloat(getComputedStyle(el).fontSize);
      el.style.fontSize = (size * Math.max(0.5, el.clientWidth / el.scrollWidth) * 0.98) + 'px';
    }
  });
}

// A wall layout (display/wall) sizes itself to the screen in viewport units: no zoom. Any other
// view is laid out 1280 CSS pixels wide and zoom it to the screen's width; if it is then taller
// than the screen, zoom it down to fit the height instead (no scroll bars, nothing cut off).
function fit() {
  const canvas = document.getElementById('display-canvas');
  const body = document.getElementById('display-body');
  if (!canvas || !body) {
    return;
  }
  if (body.querySelector(':scope > .wall')) {
    body.classList.add('wall-body');
    body.style.width = '';
    body.style.zoom = '';
    return;
  }
  body.classList.remove('wall-body');
  const design = 1280;
  body.style.width = design + 'px';
  const previous = body.style.zoom;
  body.style.zoom = 1;
  const natural = body.scrollHeight;
  let zoom = canvas.clientWidth / design;
  if (natural * zoom > canvas.clientHeight) {
    zoom = canvas.clientHeight / natural;
  }
  zoom = Math.floor(zoom * 1000) / 1000;
  body.style.zoom = String(zoom);
  if (String(zoom) !== previous) {
    body.dataset.zoom = String(zoom);
  }
}
