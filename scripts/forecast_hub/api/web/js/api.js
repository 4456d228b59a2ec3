// The /v1 endpoints of the API that serves this page, called with the planner's token.
// Every failure is an ApiError carrying the status and the API's error body.

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.details = error.details;
  }
}

const SESSION_KEY = "forecast-hub.session";

// The token is kept for this browser tab only (sessionStorage), never in a URL or a cookie.
export function savedSession() {
  const saved = sessionStorage.getItem(SESSION_KEY);
  return saved ? JSON.parse(saved) : null;
}

export function saveSession(session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function forgetSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

// While any request is out, the page says it is busy (aria-busy on the body).
let outstanding = 0;
function busy(change) {
  outstanding += change;
  document.body.setAttribute("aria-busy", String(outstanding > 0));
}

export class Api {
  constructor({ tenant, token }) {
    this.tenant = tenant;
    this.token = token;
    this.freshness = null;
    this.onFreshness = () => {};
  }

  async request(method, resource, options = {}) {
    busy(+1);
    try {
      return await this.send(method, resource, options);
    } finally {
      busy(-1);
    }
  }

  async send(method, resource, { params = {}, body }) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") query.append(name, value);
    }
    const path = `/v1/tenants/${encodeURIComponent(this.tenant)}/${resource}`;
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(query.size ? `${path}?${query}` : path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch (failure) {
      throw new ApiError(0, { code: "unreachable", message: `the API did not answer (${failure.message})` });
    }
    if (response.status === 204) return null;
    const data = await response.json();
    if (!response.ok) throw new ApiError(response.status, data.error);
    // What the answer was read from: the draft's build and the edits it reflects.
    const freshness = this.noteFreshness(response.headers);
    Object.defineProperty(data, "freshness", { value: freshness });
    return data;
  }

  noteFreshness(headers) {
    const builtAt = headers.get("X-Forecast-Built-At");
    if (!builtAt) return null;
    this.freshness = {
      builtAt,
      editsAsOf: headers.get("X-Edits-As-Of"),
      source: headers.get("X-Data-Source"),
    };
    this.onFreshness(this.freshness);
    return this.freshness;
  }

  get(resource, params) {
    return this.request("GET", resource, { params });
  }

  // Every row of a paged endpoint, following next_cursor.
  // The rows carry the freshness of the first page.
  async all(resource, params, field = "rows") {
    const rows = [];
    let cursor, freshness;
    do {
      const page = await this.get(resource, { ...params, cursor });
      freshness ??= page.freshness;
      rows.push(...page[field]);
      cursor = page.next_cursor;
    } while (cursor);
    return Object.defineProperty(rows, "freshness", { value: freshness });
  }

  putEdits(edits) {
    return this.request("PUT", "edits", { body: { edits } });
  }

  removeEdit(skuId, date) {
    return this.request("DELETE", `edits/${encodeURIComponent(skuId)}/${date}`);
  }

  putPrefs(prefs) {
    return this.request("PUT", "prefs", { body: prefs });
  }
}
