import { errorResponse } from "../_lib/respond.ts";

function notFound(request: Request) {
  const { pathname } = new URL(request.url);
  return errorResponse(404, "not_found", `no API route ${request.method} ${pathname}`);
}

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
