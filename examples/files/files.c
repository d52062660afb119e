/* Files through ordinary C stdio: the server backs the app's filesystem with its
 * encrypted store. PUT /<name> stores the body, GET /<name> returns it, DELETE
 * /<name> removes it, GET / lists the files. wasi-libc turns these calls into
 * wasi:filesystem through the preview1 adapter added at component build time. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <eos_app.h>

/* A plain file name: letters, digits, '.', '-', '_', not starting with '.'. */
static int valid_name(const char *name)
{
    if (!*name || *name == '.' || strlen(name) > 200)
        return 0;
    for (const char *c = name; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '-' || *c == '_'))
            return 0;
    }
    return 1;
}

static void list_files(eos_response_out *out)
{
    DIR *dir = opendir("/");
    if (!dir) {
        eos_respond_text(out, 500, strerror(errno));
        return;
    }
    eos_response_header(out, "content-type", "text/plain; charset=utf-8");
    eos_response_start(out, 200);
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] == '.')
            continue;
        eos_response_write(out, e->d_name, strlen(e->d_name));
        eos_response_write(out, "\n", 1);
    }
    closedir(dir);
    eos_response_finish(out);
}

static void put_file(eos_request *req, eos_response_out *out, const char *path)
{
    static char chunk[16384];
    size_t n;
    int err;
    FILE *f = fopen(path, "wb");
    if (!f) {
        eos_respond_text(out, 500, strerror(errno));
        return;
    }
    while ((err = eos_request_read(req, chunk, sizeof chunk, &n)) == EOS_APP_OK && n > 0) {
        if (fwrite(chunk, 1, n, f) != n) {
            err = EOS_APP_EIO;
            break;
        }
    }
    if (fclose(f) != 0 && !err)
        err = EOS_APP_EIO;
    eos_respond_text(out, err ? 500 : 201, err ? eos_app_strerror(err) : "stored\n");
}

static void get_file(eos_response_out *out, const char *path)
{
    static char chunk[16384];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f) {
        eos_respond_text(out, errno == ENOENT ? 404 : 500, strerror(errno));
        return;
    }
    eos_response_header(out, "content-type", "application/octet-stream");
    eos_response_start(out, 200);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        eos_response_write(out, chunk, n);
    fclose(f);
    eos_response_finish(out);
}

static void handle(eos_request *req, eos_response_out *out)
{
    const char *method = eos_request_method(req);
    const char *path = eos_request_path(req);

    if (strcmp(path, "/") == 0) {
        list_files(out);
        return;
    }
    if (!valid_name(path + 1)) {
        eos_respond_text(out, 400, "file names are letters, digits, '.', '-' and '_'\n");
        return;
    }
    if (strcmp(method, "PUT") == 0)
        put_file(req, out, path);
    else if (strcmp(method, "GET") == 0)
        get_file(out, path);
    else if (strcmp(method, "DELETE") == 0)
        eos_respond_text(out, unlink(path) == 0 ? 200 : 404, "");
    else
        eos_respond_text(out, 405, "use GET, PUT or DELETE\n");
}

EOS_HTTP_HANDLER(handle)
