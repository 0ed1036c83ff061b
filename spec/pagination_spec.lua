-- Keyset pagination (API.md section 6, issue 3): paginate() returns a page
-- and an opaque string cursor, nil exactly when nothing follows; pages with
-- and without order_by; limit, offset and limit(0); paging while records
-- are inserted and deleted never repeats a record nor skips one that existed
-- throughout; tampered, truncated and foreign cursors are refused.
-- Everything is checked on a model without indexes and on the same model
-- with indexes on the fields it orders by.

local orm = require("restmachine_orm")
local Model, Field, Q = orm.Model, orm.Field, orm.Q
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, text, mentions = support.catch, support.text, support.mentions
local expect, expect_rule, ids = support.expect, support.expect_rule, support.ids
local lcg = support.lcg

-- Walks q in pages of `size`, with no writes in between; checks the size
-- of every page and that the cursor is a string until the last page and
-- nil exactly there. Returns the ids of every page, concatenated.
local function walk(q, size)
  local out, cursor, pages = {}, nil, 0
  repeat
    local page
    page, cursor = q:limit(size):cursor(cursor):paginate()
    pages = pages + 1
    assert.is_table(page)
    if cursor ~= nil then
      assert.is_string(cursor)
      assert.equal(size, #page, "a page before the last must be full")
    else
      assert.is_true(#page <= size)
      assert.is_true(#page > 0 or pages == 1, "an empty last page after a non-nil cursor")
    end
    for _, r in ipairs(page) do out[#out + 1] = r.id end
    assert.is_true(pages <= 10000, "the walk does not end")
  until cursor == nil
  return out
end

for _, variant in ipairs({ "without indexes", "with indexes" }) do
  local indexed = variant == "with indexes"

  describe("paginate " .. variant, function()
    local backend, Item

    local function declare(b, name)
      return Model(name or "Item", {
        model_backend = b,
        id = Field.string { primary_key = true },
        name = Field.string { index = indexed or nil },
        score = Field.number { optional = true, index = indexed or nil },
        grp = Field.string { optional = true, index = indexed or nil },
        note = Field.string { optional = true },
      })
    end

    -- 23 records: scores with ties, integers and floats, and nil values;
    -- names with ties too.
    before_each(function()
      backend = InMemoryBackend()
      Item = declare(backend)
      local scores = { 3, 1.5, nil, 2, 3.0, 1, nil, 2.5, 3, 0, -1, 2, nil, 1.5, 4, 3, 2, 0.5, nil, 1, 2, 3.5, 1 }
      local grps = { "a", "b", nil }
      for i = 1, 23 do
        Item:create { id = string.format("i%02d", i), name = "n" .. (i * 7 % 5),
                      score = scores[i], grp = grps[i % 3 + 1] }
      end
    end)

    local function shapes()
      return {
        Item:where(),
        Item:where():order_by("score"),
        Item:where():order_by("-score"),
        Item:where():order_by("name", "-score"),
        Item:where():order_by("-grp", "score", "name"),
        Item:where():order_by("-id"),
        Item:where { grp = "a" },
        Item:where { score__gte = 1 }:order_by("-score"),
        Item:where { grp = "b" }:or_ { score__isnull = true }:order_by("name"),
        Item:where(Q { score__lt = 2 } | ~Q { grp = "a" }):order_by("score", "-name"),
      }
    end

    describe("without writes", function()
      it("returns, page after page, exactly what all() returns", function()
        for si, q in ipairs(shapes()) do
          local want = ids(q:all())
          for _, size in ipairs({ 1, 2, 3, 5, 7, 22, 23, 24, 100 }) do
            assert.same(want, walk(q, size), ("shape %d, pages of %d"):format(si, size))
          end
        end
      end)

      it("gives a nil cursor with a last page that is exactly full", function()
        local q = Item:where():order_by("score")
        local page, cursor = q:limit(23):paginate()
        assert.equal(23, #page)
        assert.is_nil(cursor)
        page, cursor = q:limit(20):paginate()
        assert.is_string(cursor)
        page, cursor = q:limit(3):cursor(cursor):paginate()
        assert.equal(3, #page)
        assert.is_nil(cursor)
      end)

      it("returns an empty page and a nil cursor when nothing matches", function()
        local page, cursor = Item:where { name = "nobody" }:limit(5):paginate()
        assert.same({}, page)
        assert.is_nil(cursor)
        backend:clear()
        page, cursor = Item:where():order_by("score"):limit(5):paginate()
        assert.same({}, page)
        assert.is_nil(cursor)
      end)

      it("puts every record in the page, with a nil cursor, without limit", function()
        local q = Item:where():order_by("-score", "name")
        local page, cursor = q:paginate()
        assert.same(ids(q:all()), ids(page))
        assert.is_nil(cursor)
      end)

      it("puts every remaining record in the page without limit after a cursor", function()
        local q = Item:where():order_by("name")
        local all = ids(q:all())
        local _, cursor = q:limit(5):paginate()
        local page, next_cursor = q:cursor(cursor):paginate()
        assert.same({ table.unpack(all, 6) }, ids(page))
        assert.is_nil(next_cursor)
      end)

      it("applies offset to the first page only", function()
        for _, q in ipairs({ Item:where(), Item:where():order_by("-score") }) do
          local all = ids(q:all())
          local base = q:offset(5)
          local page, cursor = base:limit(3):paginate()
          assert.same({ all[6], all[7], all[8] }, ids(page))
          page, cursor = base:limit(3):cursor(cursor):paginate()
          assert.same({ all[9], all[10], all[11] }, ids(page))
          page, cursor = base:cursor(cursor):paginate()
          assert.same({ table.unpack(all, 12) }, ids(page))
          assert.is_nil(cursor)
        end
      end)

      it("gives an empty page and a nil cursor for an offset past the end", function()
        local page, cursor = Item:where():offset(23):limit(5):paginate()
        assert.same({}, page)
        assert.is_nil(cursor)
      end)

      it("gives an empty page and a cursor to start from for limit(0) when records exist", function()
        local q = Item:where():order_by("score")
        local all = ids(q:all())
        local page, cursor = q:limit(0):paginate()
        assert.same({}, page)
        assert.is_string(cursor)
        page = q:limit(3):cursor(cursor):paginate()
        assert.same({ all[1], all[2], all[3] }, ids(page))
      end)

      it("continues after the offset from the cursor of an empty limit(0) first page", function()
        local q = Item:where():order_by("score")
        local all = ids(q:all())
        local page, cursor = q:offset(4):limit(0):paginate()
        assert.same({}, page)
        assert.is_string(cursor)
        page = q:limit(2):cursor(cursor):paginate()
        assert.same({ all[5], all[6] }, ids(page))
      end)

      it("gives a nil cursor for limit(0) when nothing matches", function()
        local page, cursor = Item:where { name = "nobody" }:limit(0):paginate()
        assert.same({}, page)
        assert.is_nil(cursor)
      end)

      it("lets the page size change from page to page", function()
        local q = Item:where():order_by("-score", "id")
        local all = ids(q:all())
        local got, cursor, sizes, k = {}, nil, { 1, 4, 2, 7, 3, 100 }, 0
        repeat
          k = k + 1
          local page
          page, cursor = q:limit(sizes[k]):cursor(cursor):paginate()
          for _, r in ipairs(page) do got[#got + 1] = r.id end
        until cursor == nil
        assert.same(all, got)
      end)

      it("starts from the beginning with a nil cursor", function()
        local q = Item:where():order_by("name")
        assert.same(ids(q:limit(4):paginate()), ids(q:limit(4):cursor(nil):paginate()))
      end)

      it("leaves the query it came from unchanged: cursor() returns a new query", function()
        local q = Item:where():order_by("name"):limit(4)
        local first = ids(q:paginate())
        local _, cursor = q:paginate()
        local next_q = q:cursor(cursor)
        assert.are_not.equal(q, next_q)
        assert.same(first, ids(q:paginate()))
        assert.are_not.same(first, ids(next_q:paginate()))
        assert.same(ids(Item:where():order_by("name"):all()), ids(q:limit(100):all()))
      end)

      it("gives the same page for the same cursor twice", function()
        local q = Item:where():order_by("score")
        local _, cursor = q:limit(4):paginate()
        local a, ca = q:limit(4):cursor(cursor):paginate()
        local b, cb = q:limit(4):cursor(cursor):paginate()
        assert.same(ids(a), ids(b))
        assert.equal(ca, cb)
      end)

      it("accepts a cursor in the same query built again, as another request would", function()
        local function build() return Item:where { grp = "a" }:or_ { score__gte = 3 }:order_by("-score", "name") end
        local all = ids(build():all())
        local page, cursor = build():limit(3):paginate()
        local page2 = build():limit(3):cursor(cursor):paginate()
        assert.same({ all[1], all[2], all[3], all[4], all[5], all[6] },
          { ids(page)[1], ids(page)[2], ids(page)[3], ids(page2)[1], ids(page2)[2], ids(page2)[3] })
      end)

      it("pages through records ordered by long text values", function()
        backend:clear()
        for i = 1, 12 do
          Item:create { id = string.format("t%02d", i), name = string.rep("x", 5000) .. (i * 5 % 12),
                        score = i % 3 }
        end
        for _, q in ipairs({ Item:where():order_by("name"), Item:where():order_by("score", "-name") }) do
          assert.same(ids(q:all()), walk(q, 5))
        end
      end)

      it("returns full instances", function()
        local page = Item:where { id = "i01" }:limit(1):paginate()
        assert.equal("b", page[1].grp)
        assert.equal(3, page[1].score)
        assert.is_true(page[1]:is_persisted())
      end)
    end)

    describe("with writes between pages", function()
      it("continues after the cursor when the record it stood on is deleted", function()
        local q = Item:where():order_by("score", "name")
        local all = ids(q:all())
        local page, cursor = q:limit(5):paginate()
        Item:get(page[5].id):delete()
        page = q:limit(3):cursor(cursor):paginate()
        assert.same({ all[6], all[7], all[8] }, ids(page))
      end)

      it("leaves out a record inserted before the cursor and shows one inserted after it", function()
        local q = Item:where():order_by("score")
        local _, cursor = q:limit(10):paginate()
        Item:create { id = "early", name = "e", score = -100 }
        Item:create { id = "late", name = "l", score = 100 }
        local seen = {}
        repeat
          local page
          page, cursor = q:limit(4):cursor(cursor):paginate()
          for _, r in ipairs(page) do seen[r.id] = true end
        until cursor == nil
        assert.is_nil(seen.early)
        assert.is_true(seen.late)
      end)

      it("shows records inserted after the cursor without order_by", function()
        local q = Item:where()
        local _, cursor = q:limit(20):paginate()
        Item:create { id = "new", name = "n" }
        local page, next_cursor = q:limit(10):cursor(cursor):paginate()
        assert.same({ "i21", "i22", "i23", "new" }, ids(page))
        assert.is_nil(next_cursor)
      end)

      it("ends with an empty page after everything following the cursor is deleted", function()
        local q = Item:where():order_by("-score")
        local _, cursor = q:limit(5):paginate()
        backend:clear()
        local page, next_cursor = q:limit(5):cursor(cursor):paginate()
        assert.same({}, page)
        assert.is_nil(next_cursor)
      end)

      -- Records whose order values are known, so that the order of what a
      -- walk returns can be checked even while the store changes.
      local function order_cmp(terms)
        return function(a, b) -- -1, 0 or 1
          for _, t in ipairs(terms) do
            local desc = t:sub(1, 1) == "-"
            local f = desc and t:sub(2) or t
            local x, y = a[f], b[f]
            if x ~= y then
              if x == nil then return desc and -1 or 1 end
              if y == nil then return desc and 1 or -1 end
              if x < y then return desc and 1 or -1 end
              return desc and -1 or 1
            end
          end
          return 0
        end
      end

      local walks = {
        { "insertion order", {}, nil },
        { "order_by score", { "score" }, nil },
        { "order_by -score, name", { "-score", "name" }, nil },
        { "order_by -id", { "-id" }, nil },
        { "order_by name with a condition", { "name" }, { grp = "a" } },
        { "order_by -grp, score with a condition", { "-grp", "score" }, { score__gte = 1 } },
      }

      for wi, w in ipairs(walks) do
        local label, terms, conds = w[1], w[2], w[3]
        it("never repeats a record nor skips one that existed throughout: " .. label, function()
          local rand = lcg(1000 + wi)
          backend:clear()
          local grps = { "a", "b", "c" }
          local serial = 0
          local function new_record()
            serial = serial + 1
            return {
              id = string.format("r%05d", serial),
              name = "n" .. rand(40),
              score = rand(5) > 1 and rand(50) / 2 or nil,
              grp = rand(4) > 1 and grps[rand(3)] or nil,
            }
          end
          local live = {} -- id -> record table, every record in the store
          local live_ids = {}
          for _ = 1, 400 do
            local r = new_record()
            Item:create(r)
            live[r.id] = r
            live_ids[#live_ids + 1] = r.id
          end
          local q = Item:where(conds)
          if #terms > 0 then q = q:order_by(table.unpack(terms)) end
          local cmp = order_cmp(#terms > 0 and terms or {})
          local matches = function(r)
            if conds == nil then return true end
            if conds.grp then return r.grp == conds.grp end
            return r.score ~= nil and r.score >= conds.score__gte
          end
          local initial = {}
          for id, r in pairs(live) do if matches(r) then initial[id] = true end end

          local removed, seen, order, prev = {}, {}, {}, nil
          local cursor, pages, last_page = nil, 0, nil
          repeat
            local page
            page, cursor = q:limit(rand(15)):cursor(cursor):paginate()
            pages = pages + 1
            last_page = page
            for _, inst in ipairs(page) do
              local id = inst.id
              assert.is_nil(seen[id], ("%s: %s returned twice (page %d)"):format(label, id, pages))
              seen[id] = true
              order[#order + 1] = id
              local r = live[id]
              assert.is_table(r, id .. " was returned but is not in the store")
              assert.is_true(matches(r), id .. " does not match the query")
              if prev and #terms > 0 then
                assert.is_true(cmp(prev, r) <= 0, ("%s: %s came after %s"):format(label, id, prev.id))
              end
              prev = r
            end
            if cursor ~= nil then
              -- Writes between pages: inserts, deletes and updates of a
              -- field that is neither ordered on nor filtered on.
              for _ = 1, rand(4) - 1 do
                local r = new_record()
                Item:create(r)
                live[r.id] = r
                live_ids[#live_ids + 1] = r.id
              end
              for _ = 1, rand(4) - 1 do
                local k = rand(#live_ids)
                local id = live_ids[k]
                live_ids[k] = live_ids[#live_ids]
                live_ids[#live_ids] = nil
                if rand(2) == 1 then
                  assert.is_true(Item:get(id):delete())
                else
                  assert.equal(1, Item:where { id = id }:delete())
                end
                live[id] = nil
                removed[id] = true
              end
              if #live_ids > 0 and rand(2) == 1 then
                local u = Item:get(live_ids[rand(#live_ids)])
                u.note = "touched " .. pages
                u:save()
              end
            end
            assert.is_true(pages < 5000, "the walk does not end")
          until cursor == nil

          for id in pairs(initial) do
            if not removed[id] then
              assert.is_true(seen[id], ("%s: %s existed throughout but was skipped"):format(label, id))
            end
          end
          assert.is_true(pages > 8, "the walk should take many pages")
          -- A nil cursor: nothing followed the last page.
          if #last_page > 0 then
            local now = ids(q:all())
            assert.equal(last_page[#last_page].id, now[#now])
          end
        end)
      end
    end)

    -- Cursors identify a query by what it means: the order in which its
    -- conditions were given, and how where, and_ and Q nest them, do not
    -- count (issue: a cursor refused by the same query written another way).
    describe("the same query written another way", function()
      -- Walks in pages of `size`, building the query anew for each page
      -- with the next of the builders, round and round; returns the ids.
      local function walk_alternating(builders, size)
        local out, cursor, k = {}, nil, 0
        repeat
          local page
          k = k % #builders + 1
          page, cursor = builders[k]():limit(size):cursor(cursor):paginate()
          for _, r in ipairs(page) do out[#out + 1] = r.id end
          assert.is_true(#out <= 23, "the walk repeats records")
        until cursor == nil
        return out
      end

      local function keys_in_pairs_order(t)
        local out = {}
        for k in pairs(t) do out[#out + 1] = k end
        return table.concat(out, ",")
      end

      -- The same conditions in a table whose pairs() order differs from
      -- that of conds: the keys inserted in another order, around filler
      -- keys that are set and then removed.
      local function reordered(conds)
        local keys = {}
        for k in pairs(conds) do keys[#keys + 1] = k end
        for attempt = 1, 64 do
          local t = {}
          for i = 1, attempt do t["filler" .. i] = true end
          for i = 1, #keys do
            local k = keys[(i + attempt) % #keys + 1]
            t[k] = conds[k]
          end
          for i = 1, attempt do t["filler" .. i] = nil end
          if keys_in_pairs_order(t) ~= keys_in_pairs_order(conds) then return t end
        end
        error("no table with another pairs() order was found")
      end

      it("accepts a cursor when and_ gives the conditions in another order", function()
        local want = ids(Item:where { grp = "a", score__gte = 1 }:order_by("name"):all())
        assert.is_true(#want > 4)
        local builders = {
          function() return Item:where { grp = "a" }:and_ { score__gte = 1 }:order_by("name") end,
          function() return Item:where { score__gte = 1 }:and_ { grp = "a" }:order_by("name") end,
          function() return Item:where { grp = "a", score__gte = 1 }:order_by("name") end,
          function() return Item:where(Q { score__gte = 1 } & Q { grp = "a" }):order_by("name") end,
          function() return Item:where():and_ { score__gte = 1 }:and_ { grp = "a" }:order_by("name") end,
        }
        for size = 1, 3 do
          assert.same(want, walk_alternating(builders, size))
        end
      end)

      it("accepts the cursor of the issue: where{a}:and_{b} then where{b}:and_{a}", function()
        local _, c = Item:where { grp = "a" }:and_ { name = "n1" }:limit(1):paginate()
        assert.is_string(c)
        local page = Item:where { name = "n1" }:and_ { grp = "a" }:limit(1):cursor(c):paginate()
        assert.equal(1, #page)
        page = Item:where { name = "n1", grp = "a" }:limit(1):cursor(c):paginate()
        assert.equal(1, #page)
      end)

      it("accepts a cursor from a condition table with the same keys in another pairs() order", function()
        local conds = { grp = "a", score__gte = 1, name__ne = "n3", note__isnull = true }
        local other = reordered(conds)
        local want = ids(Item:where(conds):all())
        assert.is_true(#want > 2)
        local builders = {
          function() return Item:where(conds) end,
          function() return Item:where(other) end,
        }
        assert.same(want, walk_alternating(builders, 1))
        assert.same(want, walk_alternating(builders, 2))
      end)

      it("accepts a cursor when or_ gives the groups in another order", function()
        local want = ids(Item:where { grp = "a" }:or_ { score__lt = 1 }:order_by("-score"):all())
        local builders = {
          function() return Item:where { grp = "a" }:or_ { score__lt = 1 }:order_by("-score") end,
          function() return Item:where { score__lt = 1 }:or_ { grp = "a" }:order_by("-score") end,
          function() return Item:where(Q { score__lt = 1 } | Q { grp = "a" }):order_by("-score") end,
        }
        assert.same(want, walk_alternating(builders, 2))
      end)

      it("still refuses a cursor from a query that means something else", function()
        local _, c = Item:where { grp = "a" }:and_ { score__gte = 1 }:limit(1):paginate()
        for _, q in ipairs({
          Item:where { grp = "a" }:or_ { score__gte = 1 },
          Item:where { grp = "a" }:not_ { score__gte = 1 },
          Item:where { grp = "a" }:and_ { score__gte = 2 },
          Item:where { grp = "a" }:and_ { score__gt = 1 },
          Item:where { grp = "a" },
          Item:where { grp = "a", score__gte = 1 }:order_by("score"),
        }) do
          local err = catch(function() return q:cursor(c):paginate() end)
          expect("ValidationError", err, "Item", "another query")
        end
      end)
    end)

    describe("bad cursors", function()
      local function refused(q, cursor)
        local err = catch(function() return q:cursor(cursor):paginate() end)
        expect("ValidationError", err, "Item")
        expect_rule(err, "cursor", "cursor")
        return err
      end

      local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=! ."

      -- Cursors of several lengths: order values of 1 to 3 bytes more.
      local function cursors()
        local out = {}
        for _, name in ipairs({ "", "a", "ab", "abc" }) do
          Item:create { id = "x" .. #name, name = name, score = -50 - #name }
          local q = Item:where { name = name }:order_by("name", "score")
          Item:create { id = "y" .. #name, name = name, score = 50 }
          local _, c = q:limit(1):paginate()
          assert.is_string(c)
          out[#out + 1] = { q = q, c = c }
        end
        local q = Item:where():order_by("-score", "name")
        local _, c = q:limit(4):paginate()
        out[#out + 1] = { q = q, c = c }
        q = Item:where { grp = "a" }
        _, c = q:limit(2):paginate()
        out[#out + 1] = { q = q, c = c }
        return out
      end

      it("refuses a cursor with any one character changed", function()
        for _, qc in ipairs(cursors()) do
          local q, c = qc.q, qc.c
          q:limit(1):cursor(c):paginate() -- the cursor itself is fine
          for i = 1, #c do
            for k = 1, #ALPHABET do
              local ch = ALPHABET:sub(k, k)
              if ch ~= c:sub(i, i) then
                local bad = c:sub(1, i - 1) .. ch .. c:sub(i + 1)
                local ok, err = pcall(function() return q:limit(1):cursor(bad):paginate() end)
                assert.is_false(ok, ("cursor %s with character %d changed to %q (%s) was accepted")
                  :format(c, i, ch, bad))
                expect("ValidationError", err, "Item")
                expect_rule(err, "cursor", "cursor")
              end
            end
          end
        end
      end)

      it("refuses a truncated cursor, down to the empty string", function()
        for _, qc in ipairs(cursors()) do
          for n = 0, #qc.c - 1 do refused(qc.q, qc.c:sub(1, n)) end
        end
      end)

      it("refuses a cursor with characters added", function()
        for _, qc in ipairs(cursors()) do
          for _, extra in ipairs({ "A", "AA", "AAA", "AAAA", "=", "\0" }) do
            refused(qc.q, qc.c .. extra)
            refused(qc.q, extra .. qc.c)
          end
        end
      end)

      it("refuses garbage", function()
        local q = Item:where():order_by("name")
        local rand = lcg(7)
        local junk = { "hello", "!!!!", string.rep("A", 40), string.rep("_", 64), "\0\1\2\3",
                       "null", "0", "eyJpZCI6MX0", string.rep("Zm9v", 5000), "é" }
        for _ = 1, 50 do
          local b = {}
          for i = 1, rand(60) do b[i] = string.char(rand(256) - 1) end
          junk[#junk + 1] = table.concat(b)
        end
        for _, s in ipairs(junk) do refused(q, s) end
      end)

      it("refuses a cursor that is not a string", function()
        local q = Item:where()
        for _, v in ipairs({ 5, true, {} }) do
          local err = catch(function() return q:cursor(v):paginate() end)
          expect("ValidationError", err, "Item")
          expect_rule(err, "cursor", "cursor")
        end
      end)

      it("refuses a cursor from a query with other conditions", function()
        local _, c = Item:where { grp = "a" }:order_by("name"):limit(2):paginate()
        for _, q in ipairs({
          Item:where { grp = "b" }:order_by("name"),
          Item:where { grp__ne = "a" }:order_by("name"),
          Item:where { note = "a" }:order_by("name"),
          Item:where():order_by("name"),
          Item:where { grp = "a" }:or_ { name = "n1" }:order_by("name"),
          Item:where { grp = "a" }:and_ { score__gt = 0 }:order_by("name"),
          Item:where():not_ { grp = "a" }:order_by("name"),
        }) do
          refused(q, c)
        end
      end)

      it("refuses a cursor from a query with another order", function()
        local _, c = Item:where():order_by("score", "name"):limit(2):paginate()
        for _, q in ipairs({
          Item:where(),
          Item:where():order_by("score"),
          Item:where():order_by("-score", "name"),
          Item:where():order_by("score", "-name"),
          Item:where():order_by("name", "score"),
          Item:where():order_by("score", "name", "id"),
        }) do
          refused(q, c)
        end
        local _, c2 = Item:where():limit(2):paginate()
        refused(Item:where():order_by("score"), c2)
      end)

      it("refuses a cursor from another model on the same backend", function()
        local Twin = declare(backend, "Twin")
        for i = 1, 5 do Twin:create { id = string.format("i%02d", i), name = "t" } end
        local _, c = Twin:where():order_by("name"):limit(2):paginate()
        refused(Item:where():order_by("name"), c)
        local _, c2 = Item:where():limit(2):paginate()
        local err = catch(function() return Twin:where():cursor(c2):paginate() end)
        expect("ValidationError", err, "Twin")
      end)

      it("refuses a cursor from another backend", function()
        local other = InMemoryBackend()
        local Same = declare(other)
        for i = 1, 30 do Same:create { id = string.format("i%02d", i), name = "n" .. (i * 7 % 5) } end
        local _, c = Same:where():order_by("name"):limit(2):paginate()
        refused(Item:where():order_by("name"), c)
        local _, c2 = Same:where():limit(2):paginate()
        refused(Item:where(), c2)
      end)

      it("leaves the store as it was and the query usable after a refusal", function()
        local q = Item:where():order_by("score")
        local before = ids(q:all())
        catch(function() return q:cursor("garbage"):paginate() end)
        assert.same(before, ids(q:all()))
        assert.same(before, walk(q, 6))
      end)
    end)
  end)
end
