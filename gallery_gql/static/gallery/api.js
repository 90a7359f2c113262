// The public GraphQL API at /graphql, as every request of the page sends it: POST, the
// token from localStorage as a bearer token, errors as ApiError (code and message).

export const TOKEN_KEY = "gallery-gql.token";

export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => `${e.code}: ${e.message}`).join("; "));
    this.errors = errors;
  }
}

export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json" };
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST", headers, body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError([{ code: "NETWORK", message: "the server could not be reached" }]);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError([{ code: `HTTP_${response.status}`, message: "unexpected response" }]);
  }
  if (body.errors?.length) {
    throw new ApiError(body.errors.map((e) => ({
      code: e.extensions?.code ?? `HTTP_${response.status}`, message: e.message,
    })));
  }
  return body.data;
}
