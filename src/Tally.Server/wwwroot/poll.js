// Tally's live results page: /polls/{id}. Plain JavaScript, no build step.
// Reads the poll over HTTP, then follows GET /v1/polls/{id}/events (server-sent events):
// a snapshot (the whole tally), then deltas (absolute counts of the options that changed), then closed.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat();
  const plural = (n, one, many) => `${number.format(n)} ${n === 1 ? one : many}`;

  const pollId = (() => {
    const match = /^\/polls\/([^/]+)\/?$/.exec(location.pathname);
    return match ? decodeURIComponent(match[1]) : null;
  })();
  const api = pollId && `/v1/polls/${encodeURIComponent(pollId)}`;

  // A credential the host app put in the link's fragment (#token=…; a fragment never reaches a server's log):
  // a voter token for polls whose voters are the app's users, or a watch token for a private poll.
  const credential = (() => {
    const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    return match ? decodeURIComponent(match[1]) : null;
  })();
  const authorization = credential ? { Authorization: `Bearer ${credential}` } : {};

  // What the page shows. seq is the last one applied; -1 until the first snapshot.
  const state = { poll: null, seq: -1, status: 'open', total: 0, watchers: 0, counts: new Map(), summary: null, ranking: null };
  let rankOrder = []; // on a ranking poll: the option ids in the order this reader ticked them
  const rows = new Map(); // option id → { row, fill, votes, share }

  // ---------- loading the poll ----------

  function notice(title, text, canRetry) {
    $('poll').hidden = true;
    $('notice').hidden = false;
    $('notice-title').textContent = title;
    $('notice-text').textContent = text;
    $('notice-retry').hidden = !canRetry;
    document.title = `${title} · Tally`;
  }

  async function load() {
    if (!pollId) {
      connection('idle', 'No poll');
      notice('Which poll?', 'Open /polls/{id} with the id that POST /v1/polls returned, e.g. /polls/k3x9q2m7pa.', false);
      return;
    }

    notice('Loading…', '', false);
    let response;
    try {
      response = await fetch(api, { headers: { Accept: 'application/json', ...authorization } });
    } catch {
      connection('offline', 'Offline');
      notice('Cannot reach the server', 'The poll could not be loaded. Check the connection and try again.', true);
      return;
    }

    if (response.status === 404) {
      connection('idle', 'No poll');
      notice('Poll not found', `There is no poll with the id “${pollId}”. Check the link: the id is the one POST /v1/polls returned.`, false);
      return;
    }

    if (!response.ok) {
      connection('offline', 'Error');
      notice('The poll could not be loaded', await problemText(response), true);
      return;
    }

    state.poll = await response.json();
    state.status = state.poll.status;
    state.total = state.poll.totalVotes ?? 0;
    build(state.poll);
    $('notice').hidden = true;
    $('poll').hidden = false;
    document.title = `${state.poll.question} · Tally`;
    if (typeof state.poll.totalVotes === 'number') {
      watch();
    } else {
      hideResults(); // the poll shows its results later (after the reader votes, or after it closes), or only to its workspace
    }
  }

  // ---------- results not visible (yet) ----------

  let recheckTimer = 0;

  function hideResults() {
    const when = {
      afterVote: 'Results are shown once you have voted.',
      afterClose: 'Results are shown when the poll closes.',
    }[state.poll.resultsVisibility] ?? 'The results of this poll are not public.';
    $('hidden-results').textContent = when;
    $('hidden-results').hidden = false;
    $('results').hidden = true;
    $('total').hidden = true;
    connection('idle', 'Results hidden');
    if (state.poll.resultsVisibility === 'afterClose') {
      recheckTimer = setTimeout(recheck, 5000); // no stream until then: look again now and then
    }
  }

  async function recheck() {
    try {
      const response = await fetch(api, { headers: { Accept: 'application/json', ...authorization } });
      const poll = response.ok ? await response.json() : null;
      if (poll && typeof poll.totalVotes === 'number') {
        showResults();
        return;
      }
    } catch {
      // offline: look again later
    }

    recheckTimer = setTimeout(recheck, 5000);
  }

  function showResults() {
    clearTimeout(recheckTimer);
    $('hidden-results').hidden = true;
    $('results').hidden = false;
    $('total').hidden = false;
    watch();
  }

  function build(poll) {
    $('question').textContent = poll.question;

    const results = $('results');
    results.replaceChildren();
    for (const option of poll.options) {
      const row = el('li', 'option');
      row.dataset.optionId = option.id;
      const head = el('div', 'option-head');
      const text = el('span', 'option-text', option.text);
      const figures = el('span', 'figures');
      const votes = el('span', 'votes', '0');
      const share = el('span', 'share', '0%');
      figures.append(votes, el('span', 'visually-hidden', ' votes, '), share);
      head.append(text, figures);
      const track = el('div', 'track');
      track.setAttribute('aria-hidden', 'true');
      const fill = el('div', 'fill');
      track.append(fill);
      row.append(head, track);
      results.append(row);
      rows.set(option.id, { row, fill, votes, share });
      state.counts.set(option.id, 0);
    }

    const choices = $('choices');
    choices.replaceChildren();
    const ranked = poll.kind === 'ranking';
    const multiple = poll.kind === 'multiple' || ranked;
    rankOrder = [];
    for (const option of poll.options) {
      const label = el('label', 'choice');
      const input = document.createElement('input');
      input.type = multiple ? 'checkbox' : 'radio';
      input.name = 'option';
      input.value = String(option.id);
      label.append(input, el('span', null, option.text));
      if (ranked) {
        const rank = el('span', 'rank', '');
        label.append(rank);
        input.addEventListener('change', () => {
          const id = Number(input.value);
          rankOrder = input.checked ? [...rankOrder, id] : rankOrder.filter((x) => x !== id);
          showRanks();
        });
      }
      choices.append(label);
    }

    const scale = poll.kind === 'rating' || poll.kind === 'nps';
    $('vote-hint').textContent = ranked
      ? `Tick your choices in order of preference, first the one you like best${poll.maxChoices < poll.options.length ? ` (up to ${poll.maxChoices})` : ''}.`
      : multiple && poll.maxChoices < poll.options.length
      ? `Choose up to ${poll.maxChoices}.`
      : multiple ? 'Choose one or more.'
        : scale ? `Choose a value from ${poll.scale.min} to ${poll.scale.max}.` : 'Choose one.';
    $('invite').hidden = poll.voterIdentity !== 'invite';
    if (poll.voterIdentity === 'token' && !credential) {
      // Its voters are the users of the app that runs it: that app links here with a voter token.
      $('vote-hint').textContent = 'Vote from the app that gave you this poll: it signs you in.';
      voteOpen = false;
    }

    baseHint = $('vote-hint').textContent;
    render();
  }

  let baseHint = null; // the form's own hint, shown while the poll is open

  // ---------- the live stream ----------

  let source = null;
  let retryTimer = 0;
  let retryDelay = 1000;
  let finished = false;

  function watch() {
    clearTimeout(retryTimer);
    // A new EventSource does not send Last-Event-ID, so a fresh one resumes with ?since=.
    // The browser's own reconnects (same EventSource) send Last-Event-ID, which the server prefers.
    const query = new URLSearchParams();
    if (state.seq >= 0) {
      query.set('since', String(state.seq));
    }

    if (credential) {
      query.set('access_token', credential); // EventSource cannot send headers
    }

    const url = `${api}/events${query.size > 0 ? `?${query}` : ''}`;
    source = new EventSource(url, { withCredentials: true });
    connection('connecting', state.seq >= 0 ? 'Reconnecting…' : 'Connecting…');

    source.onopen = () => {
      retryDelay = 1000;
      connection('live', 'Live');
    };
    source.addEventListener('snapshot', (e) => applySnapshot(JSON.parse(e.data)));
    source.addEventListener('delta', (e) => applyDelta(JSON.parse(e.data)));
    source.addEventListener('closed', (e) => applyClosed(JSON.parse(e.data)));
    source.onerror = () => {
      if (finished) {
        return;
      }

      if (source.readyState === EventSource.CONNECTING) {
        connection('connecting', 'Reconnecting…'); // the browser retries by itself, with Last-Event-ID
        return;
      }

      // The browser gave up (an HTTP error such as 503 while the server starts): retry ourselves, backing off.
      source.close();
      connection('offline', 'Offline — retrying');
      retryTimer = setTimeout(watch, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  }

  function applySnapshot(message) {
    // A snapshot is the whole tally: it replaces what the page shows, whatever came before.
    state.seq = message.seq;
    state.status = message.status;
    state.total = message.totalVotes;
    state.watchers = message.watchers;
    for (const option of message.options) {
      state.counts.set(option.id, option.votes);
    }

    state.summary = message.summary ?? null;
    state.ranking = message.ranking ?? null;
    render();
  }

  function applyDelta(message) {
    // Deltas carry absolute counts, so applying one twice is harmless; one older than what the page
    // shows would move counts back, so it is ignored. A delta with the same seq and no changes only
    // brings a new watcher count.
    if (state.seq < 0 || message.seq < state.seq) {
      return;
    }

    state.seq = message.seq;
    state.total = message.totalVotes;
    if (message.status) {
      if (state.status === 'closed' && message.status !== 'closed') {
        connection('live', 'Live'); // reopened
      }

      state.status = message.status; // it opened, paused, resumed or reopened
    }

    for (const change of message.changes) {
      state.counts.set(change.id, change.votes);
    }

    if (typeof message.watchers === 'number') {
      state.watchers = message.watchers;
    }

    if (message.summary) {
      state.summary = message.summary; // rating and nps polls: the mean (and NPS) at this seq
    }

    if (message.ranking) {
      state.ranking = message.ranking; // ranking polls: the instant runoff at this seq
    }

    render();
  }

  function applyClosed(message) {
    if (message.seq >= state.seq) {
      state.seq = message.seq;
      state.total = message.totalVotes;
      state.summary = message.summary ?? state.summary;
      state.ranking = message.ranking ?? state.ranking;
    }

    state.status = 'closed';
    if (state.poll.allowReopen) {
      // It may be reopened: keep the stream (a reopening comes as a delta with status "open").
      connection('done', 'Closed');
      render();
      return;
    }

    // Nothing follows "closed": stop watching, so the browser does not reconnect forever.
    finished = true;
    source.close();
    connection('done', 'Final results');
    render();
  }

  function render() {
    const total = state.total;
    let leader = 0;
    for (const votes of state.counts.values()) {
      leader = Math.max(leader, votes);
    }

    const ranked = state.poll && state.poll.kind === 'ranking';
    for (const [id, parts] of rows) {
      const votes = state.counts.get(id) ?? 0;
      // Share of ballots: in a multiple-choice poll the shares add up to more than 100%. On a ranking poll the
      // counts are Borda points: the bar is the share of the most points an option could have (all first places).
      const most = ranked ? total * state.poll.options.length : total;
      const share = most > 0 ? votes / most : 0;
      parts.votes.textContent = ranked ? `${number.format(votes)} pts` : number.format(votes);
      parts.share.textContent = `${Math.round(share * 100)}%`;
      parts.fill.style.transform = `scaleX(${Math.min(share, 1)})`;
      parts.row.dataset.votes = String(votes);
      parts.row.classList.toggle('leading', votes > 0 && votes === leader);
    }

    $('total').textContent = plural(total, 'vote', 'votes') + summaryText(state.summary) + rankingText(state.ranking);
    $('watchers').textContent = `${number.format(state.watchers)} watching`;
    const status = $('status');
    status.dataset.status = state.status;
    status.textContent = { closed: 'Closed', paused: 'Paused', draft: 'Not open yet', scheduled: 'Opens soon' }[state.status] ?? 'Open';
    $('vote-fieldset').disabled = state.status !== 'open' || !voteOpen;
    $('vote-form').setAttribute('aria-busy', String(voting));
    if (state.status === 'closed') {
      $('vote-hint').textContent = 'This poll is closed.';
    } else if (state.status === 'paused') {
      $('vote-hint').textContent = 'Voting is paused for now.';
    } else if (state.status === 'draft' || state.status === 'scheduled') {
      $('vote-hint').textContent = state.poll.opensAt
        ? `Voting opens at ${new Date(state.poll.opensAt).toLocaleString()}.`
        : 'Voting has not opened yet.';
    } else if (baseHint !== null) {
      $('vote-hint').textContent = baseHint; // open (again): what the form asks for
    }

    limitChoices();
  }

  // A rating or nps poll's figures after the vote count: " · mean 3.67", " · NPS +33.3 · mean 7.9".
  function summaryText(summary) {
    if (!summary || summary.mean === null || summary.mean === undefined) {
      return '';
    }

    const decimals = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
    const nps = summary.nps && summary.nps.score !== null
      ? ` · NPS ${summary.nps.score > 0 ? '+' : ''}${decimals.format(summary.nps.score)}`
      : '';
    return `${nps} · mean ${decimals.format(summary.mean)}`;
  }

  // A ranking poll's runoff winner after the vote count.
  function rankingText(ranking) {
    const winner = ranking && ranking.instantRunoff && ranking.instantRunoff.winner;
    const option = winner && state.poll.options.find((o) => o.id === winner);
    return option ? ` · instant-runoff winner: ${option.text}` : '';
  }

  function showRanks() {
    for (const label of $('choices').querySelectorAll('label')) {
      const input = label.querySelector('input');
      const at = rankOrder.indexOf(Number(input.value));
      label.querySelector('.rank').textContent = at >= 0 ? ` #${at + 1}` : '';
    }

    limitChoices();
  }

  // ---------- voting ----------

  const voterId = (() => {
    // One id per browser, kept across visits: the server's dedupe ("voter") counts it once per poll.
    const key = 'tally.voterId';
    try {
      let id = localStorage.getItem(key);
      if (!id) {
        id = 'web-' + randomHex(16);
        localStorage.setItem(key, id);
      }
      return id;
    } catch {
      return 'web-' + randomHex(16); // storage blocked: this visit only
    }
  })();

  let voting = false;
  let voteOpen = true; // false when this page cannot vote on the poll (a token poll opened without a token)
  let voterReady = null; // the request that gave this browser its anonymous voter id (a cookie), once
  let pending = null; // { ballot, key } of a submission whose answer never arrived: a retry reuses its key

  function chosen() {
    if (state.poll && state.poll.kind === 'ranking') {
      return [...rankOrder]; // the order is the ballot
    }

    return [...$('choices').querySelectorAll('input:checked')].map((input) => Number(input.value));
  }

  function limitChoices() {
    const poll = state.poll;
    if (!poll || (poll.kind !== 'multiple' && poll.kind !== 'ranking') || state.status === 'closed') {
      return;
    }

    const inputs = [...$('choices').querySelectorAll('input')];
    const full = inputs.filter((input) => input.checked).length >= poll.maxChoices;
    for (const input of inputs) {
      input.disabled = full && !input.checked;
    }
  }

  async function vote(event) {
    event.preventDefault();
    if (voting) {
      return;
    }

    const optionIds = chosen();
    $('vote-outcome').textContent = '';
    $('vote-error').textContent = '';
    if (optionIds.length === 0) {
      $('vote-error').textContent = 'Choose an option first.';
      return;
    }

    const ballot = optionIds.join(',');
    if (!pending || pending.ballot !== ballot) {
      pending = { ballot, key: randomHex(16) }; // one Idempotency-Key per submission
    }

    // Who this browser votes as depends on how the poll identifies voters.
    const identity = state.poll.voterIdentity;
    const body = { optionIds };
    if (identity === 'client') {
      body.voterId = voterId; // trusted only where the server allows it (Tally:Compatibility:ClientVoterIds)
    } else if (identity === 'invite') {
      body.inviteCode = $('invite-code').value.trim();
      if (!body.inviteCode) {
        $('vote-error').textContent = 'Enter your invite code first.';
        return;
      }
    }

    voting = true;
    $('vote-button').textContent = 'Voting…';
    render();
    try {
      if (identity === 'anonymous' && !credential) {
        // One anonymous voter id per browser, in an HttpOnly cookie that the server issues; asking again keeps it.
        voterReady ??= fetch('/v1/voters', { method: 'POST', credentials: 'same-origin' }).then((r) => {
          if (!r.ok) {
            voterReady = null;
            throw new Error(`voter id: ${r.status}`);
          }
        });
        await voterReady;
      }

      const response = await fetch(`${api}/votes`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': pending.key, Accept: 'application/json', ...authorization },
        body: JSON.stringify(body),
      });
      pending = null; // answered: a new submission gets a new key
      if (response.ok) {
        const result = await response.json();
        $('vote-outcome').textContent = result.status === 'changed' ? 'Your vote was changed.' : 'Your vote was counted.';
        if (!$('hidden-results').hidden && state.poll.resultsVisibility === 'afterVote') {
          showResults();
        }
      } else {
        $('vote-error').textContent = await problemText(response);
      }
    } catch {
      // No answer: the vote may or may not have been taken. Sending the same ballot again reuses the key,
      // so the server counts it at most once.
      $('vote-error').textContent = 'No answer from the server. Your vote may not have been counted; try again.';
    } finally {
      voting = false;
      $('vote-button').textContent = 'Vote';
      render();
    }
  }

  // ---------- small helpers ----------

  async function problemText(response) {
    try {
      const problem = await response.json(); // application/problem+json
      return problem.detail || problem.title || `The server answered ${response.status}.`;
    } catch {
      return `The server answered ${response.status}.`;
    }
  }

  function connection(stateName, text) {
    $('connection').dataset.state = stateName;
    $('connection-text').textContent = text;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function randomHex(bytes) {
    // crypto.getRandomValues works on plain http too (randomUUID needs a secure context).
    return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
  }

  $('vote-form').addEventListener('submit', vote);
  $('choices').addEventListener('change', limitChoices);
  $('notice-retry').addEventListener('click', load);
  window.addEventListener('online', () => {
    if (!finished && source && source.readyState === EventSource.CLOSED) {
      retryDelay = 1000;
      watch();
    }
  });

  load();
})();
